import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { startProcess, shellEnvironment } from '../helpers/child-process.js'
import { FAL_KEY } from '../helpers/gateway.js'
import { projectRoot } from '../helpers/project-copy.js'

export interface Ended {
  code: number | null
  /** stderr, split into its non-empty lines. */
  lines: string[]
}

/** A scratch working directory (no `.env` of the developer's reaches the process), removed in teardown. */
export async function scratchDir (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fal-gateway-start-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/**
 * Runs an entry (`src/server.ts`, `src/dev.ts`, `src/emulator/main.ts`) as an operator would,
 * from `cwd`, with a key and loopback settings under `env`, and waits for it to end by itself.
 */
export async function runEntryToExit (t: Test, entry: string, cwd: string, env: Record<string, string>): Promise<Ended> {
  const child = startProcess(t, process.execPath, ['--import', import.meta.resolve('tsx'), join(projectRoot, entry)], {
    cwd,
    env: shellEnvironment({ FAL_KEY, HOST: '127.0.0.1', PORT: '0', ...env })
  })
  const code = await child.exited
  return { code, lines: child.stderr().split('\n').filter(line => line.trim().length > 0) }
}

/** The operator's view of a configuration mistake: exit 1 and exactly one stderr line, no stack trace. */
export function assertOneLine (t: Test, ended: Ended, prefix: string, patterns: Array<string | RegExp>, what: string): void {
  t.equal(ended.code, 1, `${what}: exit code 1`)
  t.equal(ended.lines.length, 1, `${what}: one line`, { stderr: ended.lines })
  const line = ended.lines[0] ?? ''
  t.ok(line.startsWith(prefix), `${what}: starts with "${prefix}"`, { line })
  for (const pattern of patterns) t.match(line, pattern, `${what}: names ${String(pattern)}`)
}
