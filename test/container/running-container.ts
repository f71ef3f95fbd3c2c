import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'

/** A process started in a container, however it was started. */
export interface RunningContainer {
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string
  /** Resolves with the process's exit code. */
  exited: Promise<number | null>
  /** Kills the process if it still runs, then cleans up after the container; safe to call twice. */
  remove: () => Promise<void>
}

/**
 * Collects `child`'s output and exit; `kill` must take down everything the container runs (also
 * called if the test process exits first), `cleanUp` releases the container afterwards.
 */
export function trackContainer (child: ChildProcess, kill: () => void, cleanUp: () => Promise<void>): RunningContainer {
  let output = ''
  child.stdout?.on('data', chunk => { output += String(chunk) })
  child.stderr?.on('data', chunk => { output += String(chunk) })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  process.once('exit', kill)
  let removal: Promise<void> | undefined
  const remove = async (): Promise<void> => {
    process.off('exit', kill)
    if (child.exitCode === null && child.signalCode === null) {
      kill()
      await exited
    }
    await cleanUp()
  }
  return {
    output: () => output,
    exited,
    remove: async () => { await (removal ??= remove()) }
  }
}
