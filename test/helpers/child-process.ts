import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { stripVTControlCharacters } from 'node:util'
import type { Test } from 'tap'

const OUTPUT_DRAIN_BOUND_MS = 30_000

export interface RunningProcess {
  /** stdout so far, colours stripped. */
  stdout: () => string
  /** stderr so far, colours stripped. */
  stderr: () => string
  /** Resolves with the first match of `pattern` in stdout (searched from `from`); rejects when the process exits first or after `timeoutMs`. */
  waitFor: (pattern: RegExp, options?: { timeoutMs?: number, from?: number }) => Promise<RegExpExecArray>
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>
  /** SIGTERM to the whole process group (npm, its shell and node), then waits for the exit and the last of its output. */
  stop: () => Promise<number | null>
}

/**
 * What a person's shell gives a command, and nothing of the test runner's (tap's NODE_OPTIONS,
 * its TAP_* variables): PATH and HOME, then `env`.
 */
export function shellEnvironment (env: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    ...env
  }
}

/**
 * Runs a command as its own process group (so `npm run` and everything it starts can be ended
 * together), collecting its output; SIGKILLs the group in teardown if it still runs.
 */
export function startProcess (t: Test, command: string, args: string[], options: { cwd: string, env: Record<string, string> }): RunningProcess {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  const pid = child.pid as number
  let stdout = ''
  let stderr = ''
  const waiters = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += stripVTControlCharacters(chunk)
    for (const check of waiters) check()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += stripVTControlCharacters(chunk) })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  let running = true
  exited.then(() => { running = false }, () => {})
  t.teardown(() => {
    if (running) process.kill(-pid, 'SIGKILL')
  })

  const waitFor = async (pattern: RegExp, { timeoutMs = 100_000, from = 0 } = {}): Promise<RegExpExecArray> => {
    return await new Promise((resolve, reject) => {
      const done = (): void => {
        waiters.delete(check)
        clearTimeout(timer)
      }
      const check = (): void => {
        const match = pattern.exec(stdout.slice(from))
        if (match !== null) {
          done()
          resolve(match)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no ${pattern} within ${timeoutMs} ms; stdout: ${stdout}\nstderr: ${stderr}`))
      }, timeoutMs)
      waiters.add(check)
      exited.then(code => {
        if (!waiters.has(check)) return
        done()
        reject(new Error(`exited (${code}) before ${pattern}; stdout: ${stdout}\nstderr: ${stderr}`))
      }, reject)
      check()
    })
  }

  // Every process holding the command's output has ended and all of it has been read.
  const closed = once(child, 'close').then(() => {}, () => {})
  const stop = async (): Promise<number | null> => {
    if (running) process.kill(-pid, 'SIGTERM')
    const code = await exited
    // `npm run` exits on the signal at once, while what it started may still be writing its last
    // lines (a gateway's "shut down"): wait for those, within a generous bound.
    await Promise.race([closed, sleep(OUTPUT_DRAIN_BOUND_MS, undefined, { ref: false })])
    // Whatever still holds the output past that bound would keep the test process alive: end it.
    try { process.kill(-pid, 'SIGKILL') } catch {}
    child.stdout.destroy()
    child.stderr.destroy()
    return code
  }
  return { stdout: () => stdout, stderr: () => stderr, waitFor, exited, stop }
}
