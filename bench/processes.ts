import { spawn, type ChildProcess } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'

export interface Child {
  name: string
  /** Base URL the child serves on, e.g. http://127.0.0.1:41234. */
  url: string
  process: ChildProcess
  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  stop (graceMs?: number): Promise<void>
}

export interface ChildOptions {
  name: string
  /** Script run with `node --import tsx`. */
  script: string
  env: Record<string, string>
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[]
  /** How the parent learns the URL: the child sends `{ url }` over IPC, or it listens on a known port and answers this path. */
  ready: { ipc: true } | { url: string, path: string }
  startTimeoutMs?: number
}

const running = new Set<ChildProcess>()

/** Every child dies with the benchmark, however it ends. */
export function killAllChildren (): void {
  for (const child of running) child.kill('SIGKILL')
  running.clear()
}
process.once('exit', killAllChildren)

/**
 * A node child with its own event loop (the benchmark must not share one with what it measures).
 * It gets an IPC channel either way, so it can exit when the parent disappears.
 */
export async function startChild (options: ChildOptions): Promise<Child> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', options.script], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc']
  })
  running.add(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString()).slice(-4000) })
  const exited = new Promise<void>(resolve => {
    child.once('exit', () => {
      running.delete(child)
      resolve()
    })
  })

  const failure = (reason: string) => new Error(`${options.name}: ${reason}${stderr === '' ? '' : `\n${stderr}`}`)
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000)
  let url: string
  try {
    url = 'ipc' in options.ready
      ? await ipcUrl(child, deadline)
      : await pollReady(child, options.ready.url, options.ready.path, deadline)
  } catch (error) {
    child.kill('SIGKILL')
    throw failure((error as Error).message)
  }

  return {
    name: options.name,
    url,
    process: child,
    async stop (graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
      await exited
      clearTimeout(timer)
    }
  }
}

async function ipcUrl (child: ChildProcess, deadline: number): Promise<string> {
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('did not report its URL in time')), deadline - Date.now())
    child.once('exit', code => {
      clearTimeout(timer)
      reject(new Error(`exited (${code}) before it was ready`))
    })
    child.once('message', message => {
      clearTimeout(timer)
      const url = (message as { url?: unknown }).url
      if (typeof url === 'string') resolve(url)
      else reject(new Error('sent no URL'))
    })
  })
}

async function pollReady (child: ChildProcess, url: string, path: string, deadline: number): Promise<string> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before it was ready`)
    try {
      const response = await fetch(url + path, { signal: AbortSignal.timeout(1000) })
      await response.arrayBuffer()
      if (response.ok) return url
    } catch {
      // Not listening yet.
    }
    await sleep(100)
  }
  throw new Error(`${url}${path} did not answer in time`)
}

export { freePort } from '../test/helpers/free-port.js'
