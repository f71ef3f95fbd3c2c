import { execFileSync } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { startProcess, shellEnvironment } from '../helpers/child-process.js'
import { freePort } from '../helpers/free-port.js'
import { projectRoot } from '../helpers/project-copy.js'
import { commandLines, shellSnippets, staticProblems, type Snippet } from './markdown-snippets.js'
import { runSnippet, type SnippetContext } from './snippet-runner.js'

/** The token snippets find in $METRICS_TOKEN, as a reader exports it before starting the gateway. */
const METRICS_TOKEN = 'docs-snippets-metrics-token'

async function documents (): Promise<string[]> {
  const inDocs = await readdir(join(projectRoot, 'docs'), { recursive: true })
  return ['README.md', ...inDocs.filter(name => name.endsWith('.md')).sort().map(name => join('docs', name))]
}

async function snippetsOf (file: string): Promise<Snippet[]> {
  return shellSnippets(await readFile(join(projectRoot, file), 'utf8'), file)
}

const manifest = JSON.parse(await readFile(join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
const project = {
  root: projectRoot,
  scripts: manifest.scripts,
  onPath: (program: string) => {
    try {
      execFileSync('bash', ['-c', `command -v '${program}'`], { env: shellEnvironment(), stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  }
}
const where = (snippet: Snippet): string => `${snippet.file}:${snippet.line}`

// npm run dev compiles TypeScript on start, and the sessions wait for emulated jobs: slow on a busy machine.
t.setTimeout(480_000)

t.test('the README\'s quick start is two commands: npm run dev, which this test starts, and npm test, which CI runs', async t => {
  const readme = await readFile(join(projectRoot, 'README.md'), 'utf8')
  const quickStart = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? ''
  const [first] = shellSnippets(quickStart, 'README.md')
  t.ok(first, 'the Quick start section has a shell block')
  if (first === undefined) return
  t.same(commandLines(first), ['npm ci && npm run dev', 'npm test'], 'exactly two commands')
  const ci = await readFile(join(projectRoot, '.ci', 'run'), 'utf8')
  t.ok(ci.split('\n').includes('npm test'), '.ci/run runs exactly `npm test`')
})

t.test('every block that cannot run offline says why, and names only scripts and files that exist', async t => {
  for (const file of await documents()) {
    for (const snippet of (await snippetsOf(file)).filter(snippet => snippet.notRun !== undefined)) {
      t.ok((snippet.notRun as string).length >= 10, `${where(snippet)} gives its reason`)
      t.same(staticProblems(snippet, project), [], `${where(snippet)}: ${commandLines(snippet).join('; ')}`)
    }
  }
})

t.test('every other shell block of README.md and docs/ runs against npm run dev as documented', async t => {
  const port = await freePort([3000, 4000])
  const dev = startProcess(t, 'npm', ['run', 'dev'], { cwd: projectRoot, env: shellEnvironment({ PORT: String(port), METRICS_TOKEN }) })
  const [banner] = await dev.waitFor(/fal-gateway in development mode[\s\S]*?\n {2}Logs[^\n]*\n/)
  const gateway = new URL(/Gateway\s+(http:\/\/\S+)/.exec(banner)?.[1] as string)
  const emulator = new URL(/Emulator\s+(http:\/\/\S+?),/.exec(banner)?.[1] as string)
  t.equal(gateway.port, String(port), 'the banner names the gateway\'s port')

  // The documents speak of the default ports; this server has its own.
  const context: SnippetContext = {
    cwd: projectRoot,
    env: shellEnvironment({ METRICS_TOKEN }),
    substitutions: [
      ['localhost:3000', `localhost:${gateway.port}`],
      ['127.0.0.1:3000', `127.0.0.1:${gateway.port}`],
      ['127.0.0.1:4000', `127.0.0.1:${emulator.port}`]
    ],
    timeoutMs: 120_000
  }
  let ran = 0
  for (const file of await documents()) {
    for (const snippet of (await snippetsOf(file)).filter(snippet => snippet.notRun === undefined)) {
      t.same(await runSnippet(snippet, context), [], `${where(snippet)} runs as documented`)
      ran++
    }
  }
  t.ok(ran >= 4, `${ran} blocks ran`)
  await dev.stop()
})

t.test('a stale snippet fails: a wrong answer, a failing command, a missing script or file', async t => {
  const context: SnippetContext = { cwd: projectRoot, env: shellEnvironment(), substitutions: [['PORT', '3000']], timeoutMs: 60_000 }
  const stale = shellSnippets([
    '```console',
    '$ echo \'{"status":"IN_QUEUE","queue_position":2}\'',
    '{"status":"COMPLETED",…}',
    '```',
    '```sh',
    'test -f no-such-file.txt',
    '```',
    '<!-- not-run: needs a container engine -->',
    '```sh',
    'npm run no-such-script && docker compose -f deploy/no-such-compose.yaml up',
    '```'
  ].join('\n'), 'stale.md')
  const [session, script, notRun] = stale as [Snippet, Snippet, Snippet]
  t.match((await runSnippet(session, context))[0], /printed:\n\{"status":"IN_QUEUE"/, 'an answer that changed')
  t.match((await runSnippet(script, context))[0], /^exited 1/, 'a command that fails')
  t.same(staticProblems(notRun, project).map(problem => problem.replace(/ \(.*$/, '')), [
    'npm script "no-such-script" does not exist',
    'deploy/no-such-compose.yaml does not exist'
  ], 'a script or file that is gone')

  const fresh = shellSnippets('```console\n$ echo "a  b" \\\n    "c"\na b…\n$ x=PORT\n$ echo "$x"\n3000\n```', 'fresh.md')[0] as Snippet
  t.same(await runSnippet(fresh, context), [], 'a session that still holds passes: continuations, variables, whitespace and … as a wildcard')
})
