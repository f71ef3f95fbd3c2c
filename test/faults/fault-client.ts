import type { Test } from 'tap'
import { json, keyLeaks, startGateway, type TestGateway, type TestResponse } from '../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../routes/queue/queue-client.js'

/** The calls a client makes, through the typed routes and through the `@fal-ai/client` proxy. */
export type Call = 'submit' | 'status' | 'result' | 'cancel' | 'stream' |
  'proxy-submit' | 'proxy-status' | 'proxy-result' | 'proxy-cancel' | 'proxy-stream' | 'proxy-upload'

/** The emulator's name for the fal call each client call makes. */
export const FAL_OPERATION = {
  submit: 'submit',
  status: 'status',
  result: 'result',
  cancel: 'cancel',
  stream: 'stream',
  'proxy-submit': 'submit',
  'proxy-status': 'status',
  'proxy-result': 'result',
  'proxy-cancel': 'cancel',
  'proxy-stream': 'stream',
  'proxy-upload': 'upload-initiate'
} as const

/**
 * Limits out of the way: these tests are about fal and Redis failing, not about the client's
 * budget, nor about load shedding, which a busy test machine would otherwise trip at random.
 */
export const GENEROUS_LIMITS = {
  RATE_LIMIT_SUBMIT_MAX: '10000',
  RATE_LIMIT_POLL_MAX: '10000',
  RATE_LIMIT_UPLOAD_MAX: '10000',
  MAX_IN_FLIGHT: '10000',
  MAX_EVENT_LOOP_DELAY_MS: '0'
}

/**
 * Slack for a loaded 2-core machine on top of a deadline: generous, since only the lower bound (a
 * deadline waited for) is exact; the upper one only has to tell "at the deadline" from "never".
 */
export const MARGIN_MS = 5000

export async function startFaultGateway (t: Test, env: Record<string, string>): Promise<TestGateway> {
  // Jobs stay queued for the whole test, so status, cancel and stream always have one to talk about.
  return await startGateway(t, { env: { ...GENEROUS_LIMITS, ...env }, emulator: { queueMs: 60_000, processingMs: 100 } })
}

/**
 * A job of this client's, accepted by fal, for the calls that need an existing request. The tests
 * give fal short deadlines; on a busy machine a setup submit may miss one, so it tries again.
 */
export async function ownedRequest (gateway: TestGateway): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const answer = await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))
    if (answer.status === 202) return answer.json().request_id
    if (answer.status !== 504 || attempt === 10) throw new Error(`setup submit answered ${answer.status}: ${answer.text}`)
  }
}

const proxied = (target: string, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(init.headers as Record<string, string> | undefined), 'x-fal-target-url': target }
})

/**
 * Performs `call` and reads the whole answer. A stream that opens is read only up to its
 * headers: the job stays queued, so fal would keep it open.
 */
export async function perform (gateway: TestGateway, call: Call, requestId: string): Promise<TestResponse> {
  const requestPath = `/queue/${ILLUSION}/requests/${requestId}`
  const queueTarget = `https://queue.fal.run/${ILLUSION}`
  switch (call) {
    case 'submit': return await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))
    case 'status': return await gateway.request(`${requestPath}/status`)
    case 'result': return await gateway.request(requestPath)
    case 'cancel': return await gateway.request(`${requestPath}/cancel`, { method: 'PUT' })
    case 'stream': return await openStream(gateway, `${requestPath}/status/stream`)
    case 'proxy-submit': return await gateway.request('/api/fal/proxy', proxied(queueTarget, json(illusionInput)))
    case 'proxy-status': return await gateway.request('/api/fal/proxy', proxied(`${queueTarget}/requests/${requestId}/status`))
    case 'proxy-result': return await gateway.request('/api/fal/proxy', proxied(`${queueTarget}/requests/${requestId}`))
    case 'proxy-cancel': return await gateway.request('/api/fal/proxy', proxied(`${queueTarget}/requests/${requestId}/cancel`, { method: 'PUT' }))
    case 'proxy-stream': return await openStream(gateway, '/api/fal/proxy', { 'x-fal-target-url': `${queueTarget}/requests/${requestId}/status/stream` })
    case 'proxy-upload': return await gateway.request('/api/fal/proxy', proxied('https://rest.fal.ai/storage/upload/initiate',
      json({ content_type: 'image/png', file_name: 'pattern.png' })))
  }
}

async function openStream (gateway: TestGateway, path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
  const controller = new AbortController()
  const response = await fetch(gateway.url + path, { headers, signal: controller.signal })
  if (response.status === 200) {
    controller.abort()
    return { status: 200, headers: response.headers, text: '', json: <T>() => undefined as T }
  }
  const text = await response.text()
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) }
}

export async function timed<T> (run: () => Promise<T>): Promise<{ value: T, elapsed: number }> {
  const started = Date.now()
  const value = await run()
  return { value, elapsed: Date.now() - started }
}

/**
 * The bar's items 5 and 6 on one failure answer: a documented gateway error, never a 500, and
 * nothing of the upstream it came from (host, port, socket error codes, stack frames, the key).
 */
export function checkFailure (t: Test, gateway: TestGateway, answer: TestResponse, expected: { status: number, code: string }, label: string): void {
  t.equal(answer.status, expected.status, `${label}: ${expected.status}`)
  t.match(answer.json(), { statusCode: expected.status, code: expected.code }, `${label}: ${expected.code}`)
  t.same(Object.keys(answer.json() as object).sort(), ['code', 'error', 'message', 'statusCode'], `${label}: only the documented fields`)
  const upstream = new URL(gateway.emulatorUrl)
  t.notOk(answer.text.includes(upstream.host) || answer.text.includes(`:${upstream.port}`), `${label}: the upstream host and port are not named`)
  t.notOk(/ECONN|EPIPE|UND_ERR|socket|at .*\.(ts|js):\d+/i.test(answer.text), `${label}: no socket errors or stack frames`)
  t.same(keyLeaks([answer.text, JSON.stringify([...answer.headers])]), [], `${label}: the key is not in the answer`)
}
