import { existsSync } from 'node:fs'
import { isAbsolute, join } from 'node:path'

/**
 * A shell block of a Markdown document. ` ```sh ` (or bash, shell) is a script; ` ```console ` is
 * a session of `$ ` commands, each followed by its expected output. `<!-- not-run: why -->` on the
 * line before the fence marks a block that cannot run offline.
 */
export interface Snippet {
  file: string
  /** Line of the opening fence, 1-based. */
  line: number
  language: 'sh' | 'console'
  body: string
  notRun?: string
}

/** One `$ ` command of a console block and the output shown under it. */
export interface ConsoleStep { command: string, expected: string }

const FENCE = /^```(\w*)\s*$/
const NOT_RUN = /^<!-- not-run: (.+?) -->$/
const SCRIPT_LANGUAGES = ['sh', 'bash', 'shell']

export function shellSnippets (markdown: string, file: string): Snippet[] {
  const lines = markdown.split('\n')
  const snippets: Snippet[] = []
  for (let index = 0; index < lines.length; index++) {
    const language = FENCE.exec(lines[index] as string)?.[1]
    if (language === undefined) continue
    const end = lines.findIndex((line, at) => at > index && line.startsWith('```'))
    if (end === -1) throw new Error(`${file}:${index + 1}: a code block that never closes`)
    const kind = SCRIPT_LANGUAGES.includes(language) ? 'sh' : language === 'console' ? 'console' : undefined
    if (kind !== undefined) {
      const notRun = NOT_RUN.exec(lines[index - 1] ?? '')?.[1]
      snippets.push({ file, line: index + 1, language: kind, body: lines.slice(index + 1, end).join('\n'), ...(notRun === undefined ? {} : { notRun }) })
    }
    index = end
  }
  return snippets
}

/** A console block's commands (a line ending in `\` continues one) and the output under each. */
export function consoleSteps (body: string): ConsoleStep[] {
  const steps: Array<{ command: string[], expected: string[] }> = []
  let continuing = false
  for (const line of body.split('\n')) {
    const step = steps.at(-1)
    if (continuing && step !== undefined) {
      step.command.push(line)
    } else if (line.startsWith('$ ')) {
      steps.push({ command: [line.slice(2)], expected: [] })
    } else if (step !== undefined) {
      step.expected.push(line)
    } else if (line.trim() !== '') {
      throw new Error(`output before the first command: ${line}`)
    }
    continuing = line.endsWith('\\') && (steps.at(-1)?.expected.length ?? 0) === 0
  }
  return steps.map(({ command, expected }) => ({ command: command.join('\n'), expected: expected.join('\n') }))
}

/**
 * Whether a command printed what a document shows: whitespace is ignored (documents wrap long
 * answers) and `…` stands for anything (ids, timings, parts left out).
 */
export function matchesExpected (expected: string, actual: string): boolean {
  const squeeze = (text: string): string => text.replace(/\s+/g, '')
  const pattern = squeeze(expected).split('…').map(part => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?')
  return new RegExp(`^${pattern}$`, 's').test(squeeze(actual))
}

/** The command lines of a block: continuation lines joined, comments and prompts dropped. */
export function commandLines (snippet: Snippet): string[] {
  const source = snippet.language === 'console'
    ? consoleSteps(snippet.body).map(step => step.command)
    : [snippet.body]
  return source
    .flatMap(text => text.replace(/\\\n/g, ' ').split('\n'))
    .map(line => withoutComment(line).trim())
    .filter(line => line.length > 0)
}

/** Tools a not-run block may name that this machine need not have. */
const EXTERNAL_TOOLS = ['docker', 'buildah', 'kubectl', 'openssl']

/**
 * What can be checked of a block without running it: every `npm run <script>` (and `npm test`,
 * `npm start`) is a script of package.json, every relative path it names exists, every program
 * it starts is on the PATH or a known external tool.
 */
export function staticProblems (snippet: Snippet, project: { root: string, scripts: Record<string, string>, onPath: (program: string) => boolean }): string[] {
  const problems: string[] = []
  for (const line of commandLines(snippet)) {
    for (const command of line.split(/&&|\|\||;|\|/).map(part => words(part)).filter(list => list.length > 0)) {
      const [program = '', ...args] = command.slice(command.findIndex(word => !/^[A-Z_][A-Z0-9_]*=/.test(word)))
      if (program === 'npm') {
        const script = args[0] === 'run' ? args.find((word, at) => at > 0 && !word.startsWith('-')) : ['test', 'start'].includes(args[0] ?? '') ? args[0] : undefined
        if (script !== undefined && project.scripts[script] === undefined) problems.push(`npm script "${script}" does not exist (${line})`)
      } else if (program !== '' && !EXTERNAL_TOOLS.includes(program) && !project.onPath(program)) {
        problems.push(`program "${program}" is not on the PATH (${line})`)
      }
      for (const [at, word] of args.entries()) {
        const named = args[at - 1] === '-f' || (/^[\w.-]+(\/[\w.-]+)+\/?$/.test(word) && !isAbsolute(word))
        if (named && !word.includes('$') && !existsSync(join(project.root, word))) problems.push(`${word} does not exist (${line})`)
      }
    }
  }
  return problems
}

/** A command's words, quotes removed (enough for the checks above, not a shell parser). */
function words (command: string): string[] {
  return [...command.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)].map(match => match[1] ?? match[2] ?? match[3] ?? '')
}

/** A line up to its comment: a `#` that starts a word outside quotes. */
function withoutComment (line: string): string {
  let quote: string | undefined
  for (let at = 0; at < line.length; at++) {
    const char = line[at] as string
    if (quote !== undefined) {
      if (char === quote) quote = undefined
    } else if (char === '\'' || char === '"') {
      quote = char
    } else if (char === '#' && (at === 0 || /\s/.test(line[at - 1] as string))) {
      return line.slice(0, at)
    }
  }
  return line
}
