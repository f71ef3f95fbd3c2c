import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { projectRoot } from '../helpers/project-copy.js'

/**
 * The documents' TypeScript blocks are written for a reader's app, so they cannot run here, but
 * they can be type-checked against the installed `@fal-ai/client`: a renamed option, a changed
 * signature or a typo fails this test. A block may use `fal` without importing it (it continues
 * the block above) and the app's own values named below.
 */
const APP_VALUES: Record<string, string> = {
  fal: 'import { fal } from \'@fal-ai/client\'',
  getTokenOrClientKey: 'declare function getTokenOrClientKey (): Promise<string>',
  image_url: 'declare const image_url: string',
  prompt: 'declare const prompt: string'
}

interface TypeScriptBlock { where: string, code: string }

async function typescriptBlocks (): Promise<TypeScriptBlock[]> {
  const inDocs = (await readdir(join(projectRoot, 'docs'), { recursive: true })).filter(name => name.endsWith('.md')).sort()
  const blocks: TypeScriptBlock[] = []
  for (const file of ['README.md', ...inDocs.map(name => join('docs', name))]) {
    const markdown = await readFile(join(projectRoot, file), 'utf8')
    for (const match of markdown.matchAll(/^```(?:ts|typescript)\n([\s\S]*?)^```/gm)) {
      const line = markdown.slice(0, match.index).split('\n').length
      blocks.push({ where: `${file}:${line}`, code: match[1] as string })
    }
  }
  return blocks
}

/** The block as a module of its own, with the app values it uses but does not declare. */
function asModule (code: string): string {
  const prelude = Object.entries(APP_VALUES)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code) && !new RegExp(`(import|const|let|function)\\s*\\{?[^=\\n]*\\b${name}\\b`).test(code))
    .map(([, declaration]) => declaration)
  return [...prelude, code, 'export {}'].join('\n')
}

/** Type errors of each block, compiled with the project's settings as files in the project root. */
function typeErrors (blocks: TypeScriptBlock[]): Map<string, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(join(projectRoot, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })
  if (config === undefined) throw new Error('cannot read tsconfig.json')
  const files = new Map(blocks.map((block, index) => [join(projectRoot, `docs-snippet-${index}.ts`), block]))
  const options = { ...config.options, noEmit: true, noUnusedLocals: false, sourceMap: false }
  const host = ts.createCompilerHost(options)
  const readFileFromDisk = host.readFile.bind(host)
  const getSourceFile = host.getSourceFile.bind(host)
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name)
  host.readFile = (name) => {
    const block = files.get(name)
    return block === undefined ? readFileFromDisk(name) : asModule(block.code)
  }
  host.getSourceFile = (name, language, onError, create) => {
    const block = files.get(name)
    return block === undefined ? getSourceFile(name, language, onError, create) : ts.createSourceFile(name, asModule(block.code), language, true)
  }
  const program = ts.createProgram([...files.keys()], options, host)
  const errors = new Map<string, string[]>(blocks.map(block => [block.where, []]))
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const block = diagnostic.file === undefined ? undefined : files.get(diagnostic.file.fileName)
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')
    if (block === undefined) throw new Error(`outside the snippets: ${message}`)
    errors.get(block.where)?.push(message)
  }
  return errors
}

// A TypeScript program over @fal-ai/client's types: seconds on a busy machine.
t.setTimeout(240_000)

t.test('every TypeScript block of README.md and docs/ type-checks against the installed @fal-ai/client', async t => {
  const blocks = await typescriptBlocks()
  t.ok(blocks.length >= 4, `${blocks.length} blocks`)
  for (const [where, errors] of typeErrors(blocks)) t.same(errors, [], where)
})

t.test('a block that no longer fits the client fails', async t => {
  const stale = [
    { where: 'stale.md:1', code: 'fal.config({ proxyUrl: { url: \'/api/fal/proxy\', when: \'sometimes\' } })' },
    { where: 'fresh.md:1', code: 'fal.config({ proxyUrl: { url: \'/api/fal/proxy\', when: \'always\' } })' }
  ]
  const errors = typeErrors(stale)
  t.ok((errors.get('stale.md:1') ?? []).length > 0, 'a value the client does not accept')
  t.same(errors.get('fresh.md:1'), [], 'the documented form passes')
})
