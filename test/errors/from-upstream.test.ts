import t, { type Test } from 'tap'
import type { Fault } from '../../src/emulator/emulator.js'
import { json, type TestGateway, type TestResponse } from '../helpers/gateway.js'
import { ILLUSION, illusionInput, startQueueGateway } from '../routes/queue/queue-client.js'

type Call = 'submit' | 'status' | 'result' | 'cancel'
const CALLS: Call[] = ['submit', 'status', 'result', 'cancel']

/**
 * A gateway whose client owns one queued request (only its owner may poll it), so status, result
 * and cancel calls reach fal. The job stays queued for the whole test.
 */
async function startWithJob (t: Test, env: Record<string, string> = {}): Promise<{ gateway: TestGateway, requestId: string }> {
  // These tests look at how each failure is answered, not at retries or breakers (tested on their own).
  const isolated = { RATE_LIMIT_SUBMIT_MAX: '1000', UPSTREAM_RETRIES: '0', BREAKER_VOLUME_THRESHOLD: '100000' }
  const gateway = await startQueueGateway(t, { env: { ...isolated, ...env }, emulator: { queueMs: 60_000 } })
  // Some tests give fal a short deadline: on a busy machine the setup submit may miss it, so it tries again.
  let submitted = await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))
  for (let attempt = 1; submitted.status === 504 && attempt < 10; attempt++) submitted = await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))
  t.equal(submitted.status, 202, 'the job to poll was submitted')
  gateway.emulator.resetCalls()
  return { gateway, requestId: submitted.json().request_id }
}

/** Performs `call` while `fault` is on; the fault holds for every attempt, retries included. */
async function withFault (gateway: TestGateway, fault: Fault, call: Call, requestId: string): Promise<TestResponse> {
  gateway.emulator.faults.set(fault)
  try {
    return await perform(gateway, call, requestId)
  } finally {
    gateway.emulator.faults.clear()
  }
}

async function perform (gateway: TestGateway, call: Call, requestId: string): Promise<TestResponse> {
  const requestPath = `/queue/${ILLUSION}/requests/${requestId}`
  switch (call) {
    case 'submit': return await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))
    case 'status': return await gateway.request(`${requestPath}/status`)
    case 'result': return await gateway.request(requestPath)
    case 'cancel': return await gateway.request(`${requestPath}/cancel`, { method: 'PUT' })
  }
}

/** A 5xx body the client can act on, and nothing of the upstream it came from. */
function checkGeneric (t: Test, gateway: TestGateway, answer: TestResponse, label: string): void {
  const upstreamHost = new URL(gateway.emulatorUrl).host
  t.notOk(answer.text.includes(upstreamHost), `${label}: the body does not name the upstream host`)
  t.notOk(/ECONN|UND_ERR|at .*\.(ts|js):\d+/.test(answer.text), `${label}: no network error codes or stack frames`)
  t.same(Object.keys(answer.json()).sort(), ['code', 'error', 'message', 'statusCode'], `${label}: only the documented fields`)
}

t.test('fal 4xx answers keep their meaning', async t => {
  const { gateway, requestId } = await startWithJob(t)
  const cases: Array<{ fault: Fault, call: Call, status: number, code: string }> = [
    { fault: { mode: 'status', status: 400 }, call: 'submit', status: 400, code: 'UPSTREAM_REJECTED' },
    { fault: { mode: 'status', status: 404 }, call: 'status', status: 404, code: 'REQUEST_NOT_FOUND' },
    { fault: { mode: 'status', status: 404 }, call: 'result', status: 404, code: 'REQUEST_NOT_FOUND' },
    { fault: { mode: 'status', status: 404 }, call: 'cancel', status: 404, code: 'REQUEST_NOT_FOUND' },
    { fault: { mode: 'status', status: 422 }, call: 'submit', status: 422, code: 'VALIDATION_FAILED' }
  ]
  for (const { fault, call, status, code } of cases) {
    const answer = await withFault(gateway, fault, call, requestId)
    t.equal(answer.status, status, `fal ${fault.status ?? ''} on ${call}: ${status}`)
    t.match(answer.json(), { statusCode: status, code, message: String })
  }
  t.match((await withFault(gateway, { mode: 'status', status: 422 }, 'submit', requestId)).json(), { detail: [{ loc: ['body'], msg: String, type: String }] },
    "fal's 422 keeps a detail list the official client reads")
})

t.test('fal 5xx answers become a generic 502, and a failed submit is sent only once', async t => {
  const { gateway, requestId } = await startWithJob(t)
  for (const status of [500, 502, 503]) {
    for (const call of CALLS) {
      gateway.emulator.resetCalls()
      const answer = await withFault(gateway, { mode: 'status', status }, call, requestId)
      t.equal(answer.status, 502, `fal ${status} on ${call}: 502`)
      t.match(answer.json(), { statusCode: 502, code: 'UPSTREAM_ERROR' })
      checkGeneric(t, gateway, answer, `fal ${status} on ${call}`)
      if (call === 'submit') t.equal(gateway.emulator.callsOf('submit').length, 1, `fal ${status}: the submit was not retried`)
    }
  }
})

t.test('with read retries on, a failed submit is still sent to fal exactly once', async t => {
  const { gateway, requestId } = await startWithJob(t, { UPSTREAM_RETRIES: '2', UPSTREAM_RETRY_BASE_MS: '10' })
  for (const status of [500, 502, 503]) {
    gateway.emulator.resetCalls()
    const answer = await withFault(gateway, { mode: 'status', status }, 'submit', requestId)
    t.equal(answer.status, 502, `fal ${status} on submit: 502`)
    t.equal(gateway.emulator.callsOf('submit').length, 1, `fal ${status}: fal received the submit once`)
  }
  gateway.emulator.resetCalls()
  const reset = await withFault(gateway, { mode: 'reset' }, 'submit', requestId)
  t.equal(reset.status, 502, 'connection reset on submit: 502')
  t.equal(gateway.emulator.callsOf('submit').length, 1, 'connection reset: fal received the submit once')
})

t.test("fal refusing the gateway's key is a misconfiguration, not the client's fault", async t => {
  const { gateway, requestId } = await startWithJob(t)
  for (const status of [401, 403]) {
    for (const call of CALLS) {
      const answer = await withFault(gateway, { mode: 'status', status }, call, requestId)
      t.equal(answer.status, 502, `fal ${status} on ${call}: 502`)
      t.match(answer.json(), { code: 'GATEWAY_MISCONFIGURED' })
      checkGeneric(t, gateway, answer, `fal ${status} on ${call}`)
    }
  }
  t.ok(gateway.logs.some(line => line.includes('"level":50') && line.includes('FAL_KEY')), 'the operator is told, at error level, to check FAL_KEY')
})

t.test('fal rate limiting the gateway answers 503 UPSTREAM_BUSY with Retry-After', async t => {
  const { gateway, requestId } = await startWithJob(t)
  for (const call of CALLS) {
    gateway.emulator.resetCalls()
    const answer = await withFault(gateway, { mode: 'status', status: 429, retryAfter: 7 }, call, requestId)
    t.equal(answer.status, 503, `fal 429 on ${call}: 503`)
    t.match(answer.json(), { code: 'UPSTREAM_BUSY' })
    t.equal(answer.headers.get('retry-after'), '7', "fal's Retry-After is passed on")
    if (call === 'submit') t.equal(gateway.emulator.callsOf('submit').length, 1, 'the submit was not retried')
  }
})

t.test('fal hanging answers 504 UPSTREAM_TIMEOUT within UPSTREAM_TIMEOUT_MS', async t => {
  const { gateway, requestId } = await startWithJob(t, { UPSTREAM_TIMEOUT_MS: '300' })
  for (const call of CALLS) {
    const started = Date.now()
    const answer = await withFault(gateway, { mode: 'hang' }, call, requestId)
    const elapsed = Date.now() - started
    t.equal(answer.status, 504, `hang on ${call}: 504`)
    t.match(answer.json(), { code: 'UPSTREAM_TIMEOUT' })
    checkGeneric(t, gateway, answer, `hang on ${call}`)
    t.ok(elapsed < 5000, `hang on ${call}: answered in ${elapsed} ms, well before 5 s`)
  }
  t.equal(gateway.emulator.callsOf('submit').length, 1, 'the timed-out submit was not retried')
})

t.test('fal resetting the connection or answering garbage is a 502 of its own kind', async t => {
  const { gateway, requestId } = await startWithJob(t)
  for (const call of CALLS) {
    const reset = await withFault(gateway, { mode: 'reset' }, call, requestId)
    t.equal(reset.status, 502, `reset on ${call}: 502`)
    t.match(reset.json(), { code: 'UPSTREAM_UNREACHABLE' })
    checkGeneric(t, gateway, reset, `reset on ${call}`)
  }
  for (const call of ['submit', 'status', 'result'] as const) {
    const malformed = await withFault(gateway, { mode: 'malformed' }, call, requestId)
    t.equal(malformed.status, 502, `malformed JSON on ${call}: 502`)
    t.match(malformed.json(), { code: 'UPSTREAM_MALFORMED' })
    checkGeneric(t, gateway, malformed, `malformed JSON on ${call}`)
  }
  t.equal(gateway.emulator.callsOf('submit').length, 2, 'neither failed submit was retried')
})

t.test('fal gone entirely answers 502 without naming where it was', async t => {
  const { gateway, requestId } = await startWithJob(t)
  await gateway.emulator.close()
  for (const call of CALLS) {
    const answer = await perform(gateway, call, requestId)
    t.equal(answer.status, 502, `${call} with fal down: 502`)
    t.match(answer.json(), { code: 'UPSTREAM_UNREACHABLE' })
    checkGeneric(t, gateway, answer, `${call} with fal down`)
  }
})
