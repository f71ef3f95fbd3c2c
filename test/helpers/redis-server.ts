import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port.js'

export interface RedisServer {
  url: string
  port: number
  /** Stops gracefully (SIGTERM) and waits for the exit. */
  stop (): Promise<void>
  /** Starts again on the same port, empty (nothing is persisted). */
  start (): Promise<void>
  /** SIGKILL, as a crash would. */
  kill (): Promise<void>
  /** SIGSTOP / SIGCONT: Redis keeps its connections open but answers nothing. */
  freeze (): void
  thaw (): void
}

const SYSTEM_REDIS_PORT = 6379

/**
 * A private, non-persistent redis-server on a free loopback port; never the system one on 6379.
 * `args` are added to its command line (e.g. `--cluster-enabled yes`).
 */
export async function startRedisServer (args: string[] = []): Promise<RedisServer> {
  const port = await freePort([SYSTEM_REDIS_PORT])
  let child: ChildProcess | undefined

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error('redis-server already running')
    const spawned = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      // Nothing is written (no RDB, no AOF); the directory only has to exist.
      '--dir', tmpdir(), '--daemonize', 'no', '--loglevel', 'warning', ...args
    ], { stdio: 'ignore' })
    child = spawned
    // A test run that dies without teardown must not leave a redis-server behind.
    const killOnExit = () => spawned.kill('SIGKILL')
    process.once('exit', killOnExit)
    spawned.once('exit', () => {
      process.off('exit', killOnExit)
      if (child === spawned) child = undefined
    })
    await waitForPong(port, spawned)
  }

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    const running = child
    if (running === undefined) return
    if (signal === 'SIGTERM') running.kill('SIGCONT')
    const exited = once(running, 'exit')
    running.kill(signal)
    await exited
    child = undefined
  }

  await start()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    freeze: () => { child?.kill('SIGSTOP') },
    thaw: () => { child?.kill('SIGCONT') }
  }
}

async function waitForPong (port: number, child: ChildProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`redis-server exited (${child.exitCode ?? child.signalCode})`)
    if (await ping(port)) return
    await sleep(25)
  }
  throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`)
}

async function ping (port: number): Promise<boolean> {
  return await new Promise(resolve => {
    const socket = createConnection({ port, host: '127.0.0.1' })
    let reply = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(500, () => done(false))
    socket.on('error', () => done(false))
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', chunk => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'))
    })
  })
}
