import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { consoleSteps, matchesExpected, type Snippet } from './markdown-snippets.js'

export interface SnippetContext {
  cwd: string
  env: Record<string, string>
  /** Replaced in commands and expected outputs alike: the documents' ports by the running servers'. */
  substitutions: Array<[string, string]>
  timeoutMs: number
}

/**
 * Runs a block in bash, as a reader would paste it, and returns what went wrong (nothing when it
 * is up to date): a script must exit 0; each command of a session must exit 0 and print the
 * output the document shows under it. A session runs in one shell, so its variables carry over.
 */
export async function runSnippet (snippet: Snippet, context: SnippetContext): Promise<string[]> {
  const substitute = (text: string): string => context.substitutions.reduce((result, [from, to]) => result.replaceAll(from, to), text)
  if (snippet.language === 'sh') {
    const { code, output } = await bash(`set -euo pipefail\n${substitute(snippet.body)}\n`, context)
    return code === 0 ? [] : [`exited ${String(code)}:\n${output}`]
  }

  const steps = consoleSteps(snippet.body).map(step => ({ command: substitute(step.command), expected: substitute(step.expected) }))
  const directory = await mkdtemp(join(tmpdir(), 'snippet-'))
  try {
    // Each command's output and status into files of its own; the session stops at the first failure.
    const script = steps.map(({ command }, index) => [
      '{',
      command,
      `} > '${directory}/${index}.out' 2>&1`,
      `echo $? > '${directory}/${index}.code'`,
      `[ "$(cat '${directory}/${index}.code')" = 0 ] || exit 0`
    ].join('\n')).join('\n')
    const { code, output } = await bash(`set -uo pipefail\n${script}\n`, context)
    if (code !== 0) return [`the session's shell exited ${String(code)}:\n${output}`]
    for (const [index, { command, expected }] of steps.entries()) {
      const status = (await readFile(join(directory, `${index}.code`), 'utf8').catch(() => 'never ran')).trim()
      const actual = await readFile(join(directory, `${index}.out`), 'utf8').catch(() => '')
      if (status !== '0') return [`$ ${command}\nexited ${status}:\n${actual}`]
      if (!matchesExpected(expected, actual)) return [`$ ${command}\nprinted:\n${actual}\nwhere the document shows:\n${expected}`]
    }
    return []
  } finally {
    await rm(directory, { recursive: true, force: true })
  }
}

async function bash (script: string, context: SnippetContext): Promise<{ code: number | null, output: string }> {
  const child = spawn('bash', ['-c', script], { cwd: context.cwd, env: context.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { output += chunk })
  const timer = setTimeout(() => {
    output += `\n(killed after ${context.timeoutMs} ms)`
    process.kill(-(child.pid as number), 'SIGKILL')
  }, context.timeoutMs)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, output }
}
