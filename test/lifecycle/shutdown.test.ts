import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { Agent, fetch as undiciFetch } from 'undici'
import { createEmulator, type Emulator } from '../../src/emulator/emulator.js'
import { FAL_KEY } from '../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../routes/queue/queue-client.js'

const GRACE_MS = 5000
const POLLS = 50
const STREAMS = 5
/** How a request sent after SIGTERM may fail without an answer: refused, or reset or ended as an idle connection. */
const NEVER_SERVED = ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET']

interface StreamEnd { ok: boolean, text: string, error?: string }

/** Reads a response body to its end; `ok` is false when the connection broke mid-stream. */
async function readToEnd (response: Response): Promise<StreamEnd> {
  let text = ''
  const decoder = new TextDecoder()
  const reader = (response.body as ReadableStream<Uint8Array>).getReader()
  try {
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value)
    return { ok: true, text }
  } catch (error) {
    return { ok: false, text, error: String(error) }
  }
}

interface GatewayProcess {
  url: string
  logs: string[]
  exited: Promise<[number | null, NodeJS.Signals | null]>
  /** Sends `signal`, then waits until the process logs that it started shutting down. */
  signalShutdown: (signal: NodeJS.Signals) => Promise<void>
  kill: (signal: NodeJS.Signals) => void
}

/** `src/server.ts` as its own process in front of `emulatorUrl`, killed in teardown if still running. */
async function spawnGateway (t: Test, emulatorUrl: string, env: Record<string, string>): Promise<GatewayProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      FAL_KEY,
      FAL_QUEUE_URL: emulatorUrl,
      FAL_REST_URL: emulatorUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'info',
      // As for every test gateway (helpers/gateway.ts): a busy test machine would trip load shedding.
      MAX_EVENT_LOOP_DELAY_MS: '0',
      ...env
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const logs: string[] = []
  const lines = createInterface({ input: child.stdout })
  let stderr = ''
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const logged = async (pattern: RegExp): Promise<string> => await new Promise((resolve, reject) => {
    const seen = logs.find(line => pattern.test(line))
    if (seen !== undefined) return resolve(seen)
    const onLine = (line: string): void => {
      if (!pattern.test(line)) return
      lines.off('line', onLine)
      resolve(line)
    }
    lines.on('line', onLine)
    exited.then(([code]) => { reject(new Error(`the gateway exited (${code}) before logging ${String(pattern)}: ${stderr}`)) }, reject)
  })
  lines.on('line', line => { logs.push(line) })
  const url = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(await logged(/Server listening at/))?.[1] as string
  const signalShutdown = async (signal: NodeJS.Signals): Promise<void> => {
    child.kill(signal)
    // The drain begins in the same tick as this line: any request after it is refused.
    await logged(/"msg":"shutting down"/)
  }
  return { url, logs, exited, signalShutdown, kill: signal => child.kill(signal) }
}

async function submitIllusion (url: string): Promise<string> {
  const response = await fetch(`${url}/queue/${ILLUSION}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(illusionInput) })
  return ((await response.json()) as { request_id: string }).request_id
}

t.test('SIGTERM with 50 polls and 5 status streams in flight: all finish, later requests are refused, exit 0', async t => {
  const emulator = createEmulator({ falKey: FAL_KEY })
  const emulatorUrl = await emulator.listen()
  t.teardown(() => emulator.close())
  // Every job stays running, so only the gateway can end the streams.
  emulator.jobs.hold({ phase: 'IN_PROGRESS' })

  const { url, logs, exited, signalShutdown } = await spawnGateway(t, emulatorUrl, {
    SHUTDOWN_GRACE_MS: String(GRACE_MS),
    RATE_LIMIT_POLL_MAX: '10000',
    RATE_LIMIT_SUBMIT_MAX: '1000',
    MAX_IN_FLIGHT: '100'
  })

  // One job per poll: polls of one job would share a single call to fal (coalescing).
  const submitted = await Promise.all(Array.from({ length: POLLS }, async () => {
    const response = await fetch(`${url}/queue/${ILLUSION}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(illusionInput) })
    t.equal(response.status, 202, 'submit accepted')
    return ((await response.json()) as { request_id: string }).request_id
  }))

  // Three streams on the typed route, two through the drop-in proxy.
  const streams = await Promise.all(submitted.slice(0, STREAMS).map(async (id, index) => {
    const response = index < 3
      ? await fetch(`${url}/queue/${ILLUSION}/requests/${id}/status/stream`)
      : await fetch(`${url}/api/fal/proxy`, { headers: { 'x-fal-target-url': `https://queue.fal.run/${ILLUSION}/requests/${id}/status/stream` } })
    t.equal(response.status, 200, `stream ${index} open`)
    return response
  }))
  const streamEnds = streams.map(readToEnd)

  // fal keeps every poll waiting until the signal has come.
  emulator.faults.set({ mode: 'hold', operations: ['status'] })
  const polls = Array.from({ length: POLLS }, async (_, index) => {
    const response = await fetch(`${url}/queue/${ILLUSION}/requests/${submitted[index] as string}/status`)
    return { status: response.status, body: await response.text() }
  })
  const deadline = Date.now() + 30_000
  while (emulator.callsOf('status').length < POLLS && Date.now() < deadline) await sleep(10)
  t.equal(emulator.callsOf('status').length, POLLS, 'all 50 polls are waiting on fal')

  await signalShutdown('SIGTERM')
  // A new client, on a connection of its own: an idle pooled one may be reset by the closing server.
  const newClient = new Agent()
  t.teardown(() => newClient.close())
  const late = await undiciFetch(`${url}/queue/${ILLUSION}/requests/${submitted[0] as string}/status`, { dispatcher: newClient }).then(
    async response => ({ status: response.status, body: await response.text() }),
    (error: Error) => ({ status: 0, body: String((error.cause as { code?: string } | undefined)?.code ?? error.message) })
  )
  // Refused by a closed port, or, when it reached the listener's backlog just as it closed, reset
  // (or ended) with the server's idle connections unanswered: either way it was never served.
  if (late.status === 0) t.ok(NEVER_SERVED.includes(late.body), `a request after SIGTERM is never served (${late.body})`)
  else t.match({ status: late.status, body: JSON.parse(late.body) }, { status: 503, body: { code: 'SHUTTING_DOWN' } }, 'a request after SIGTERM gets 503')

  emulator.faults.clear()
  const answered = await Promise.all(polls)
  t.same(answered.filter(answer => answer.status !== 200 && answer.status !== 202), [], 'all 50 in-flight polls answered 2xx')

  const ended = await Promise.all(streamEnds)
  t.same(ended.map((end, index) => ({ index, ok: end.ok, error: end.error })).filter(end => !end.ok), [], 'every stream ended cleanly, none was cut mid-chunk')
  t.ok(ended.every(end => end.text.includes('data:') && end.text.includes('shutting down')), 'each stream carried events, then the shutdown notice')

  const [code, signal] = await exited
  t.equal(signal, null, 'not killed by a signal')
  // Past SHUTDOWN_GRACE_MS the process would exit 1.
  t.equal(code, 0, 'exit code 0: the drain finished within SHUTDOWN_GRACE_MS')
  t.ok(logs.some(line => line.includes('"shut down"')), 'the app closed completely (Redis, the upstream pool)')
  t.same(logs.filter(line => line.includes('"level":50')), [], 'no error was logged')
})

const LONG_GRACE_MS = 60_000

/**
 * A gateway process with a long grace period and one status stream open on a job that fal keeps
 * running until `emulator.jobs.release()`.
 */
async function gatewayWithOpenStream (t: Test): Promise<GatewayProcess & { streamEnd: Promise<StreamEnd>, emulator: Emulator }> {
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 0, processingMs: 100 })
  const emulatorUrl = await emulator.listen()
  t.teardown(() => emulator.close())
  emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  const gateway = await spawnGateway(t, emulatorUrl, { SHUTDOWN_GRACE_MS: String(LONG_GRACE_MS) })
  const id = await submitIllusion(gateway.url)
  const stream = await fetch(`${gateway.url}/queue/${ILLUSION}/requests/${id}/status/stream`)
  return { ...gateway, emulator, streamEnd: readToEnd(stream) }
}

t.test('a second SIGTERM exits at once', async t => {
  // The job runs until the test ends, so the open stream holds the first shutdown for its whole grace.
  const { exited, kill, signalShutdown, streamEnd } = await gatewayWithOpenStream(t)
  await signalShutdown('SIGTERM')
  const secondAt = Date.now()
  kill('SIGTERM')
  const [code] = await exited
  t.ok(Date.now() - secondAt < LONG_GRACE_MS / 2, 'the second signal ends the process, long before the grace period would')
  t.equal(code, 1, 'with exit code 1: the drain did not finish')
  await streamEnd
})

t.test('a status stream that ends on its own during the drain lets the process exit 0 before the grace period ends', async t => {
  // The stream's headers went out before the drain, on a keep-alive connection the client keeps
  // open after; fal completes the job once the drain has begun.
  const { exited, signalShutdown, streamEnd, emulator } = await gatewayWithOpenStream(t)
  await signalShutdown('SIGTERM')
  emulator.jobs.release()
  const end = await streamEnd
  t.ok(end.ok && end.text.includes('"status":"COMPLETED"'), 'the stream ran to the job\'s end')
  const [code] = await exited
  t.equal(code, 0, 'the drain finished: exit 0, not killed at the end of the grace period with 1')
})
