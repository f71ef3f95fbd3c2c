import t from 'tap'
import type { Fault } from '../../src/emulator/emulator.js'
import {
  FAL_OPERATION,
  MARGIN_MS,
  checkFailure,
  ownedRequest,
  perform,
  startFaultGateway,
  timed,
  type Call
} from './fault-client.js'

const DEADLINE_MS = 1000
const RETRIES = 2

// Deadlines far off, so a call fal answers (however busy the machine) never times out.
const ENV = {
  UPSTREAM_TIMEOUT_MS: '20000',
  STREAM_TIMEOUT_MS: '20000',
  UPSTREAM_RETRIES: String(RETRIES),
  UPSTREAM_RETRY_BASE_MS: '10',
  // Breakers are tested on their own (breaker.test.ts); here every failure must reach fal.
  BREAKER_VOLUME_THRESHOLD: '100000'
}

// Each operation's own deadline, short; the general one stays far off, so a timeout at
// DEADLINE_MS proves they apply.
const SHORT_DEADLINES = {
  UPSTREAM_TIMEOUT_SUBMIT_MS: String(DEADLINE_MS),
  UPSTREAM_TIMEOUT_STATUS_MS: String(DEADLINE_MS),
  UPSTREAM_TIMEOUT_RESULT_MS: String(DEADLINE_MS),
  UPSTREAM_TIMEOUT_CANCEL_MS: String(DEADLINE_MS),
  UPSTREAM_TIMEOUT_UPLOAD_MS: String(DEADLINE_MS)
}

const CALLS: Call[] = ['submit', 'status', 'result', 'cancel', 'stream', 'proxy-submit', 'proxy-status', 'proxy-upload']
const RETRIED: Call[] = ['status', 'result', 'proxy-status']

/** Plays `fault` on the fal operation behind `call` and performs it against a job of the client's. */
async function withFault (gateway: Awaited<ReturnType<typeof startFaultGateway>>, call: Call, fault: Omit<Fault, 'operations'>) {
  const requestId = await ownedRequest(gateway)
  gateway.emulator.resetCalls()
  gateway.emulator.faults.set({ ...fault, operations: [FAL_OPERATION[call]] })
  try {
    const { value: answer, elapsed } = await timed(() => perform(gateway, call, requestId))
    return { answer, elapsed, falCalls: gateway.emulator.callsOf(FAL_OPERATION[call]).length }
  } finally {
    gateway.emulator.faults.clear()
  }
}

t.test('fal slow but within the deadline: the call succeeds', async t => {
  const gateway = await startFaultGateway(t, ENV)
  for (const call of CALLS) {
    const { answer, elapsed } = await withFault(gateway, call, { mode: 'delay', delayMs: 150 })
    t.ok(answer.status < 500, `${call}: fal's answer is passed on (${answer.status})`)
    t.ok(elapsed >= 140, `${call}: it waited for fal (${elapsed} ms)`)
  }
})

// A delay of a minute: only the deadline can end the call within the test.
for (const fault of [{ mode: 'delay', delayMs: 60_000 }, { mode: 'hang' }] as const) {
  t.test(`fal ${fault.mode === 'hang' ? 'hanging' : 'slower than the deadline'}: 504 UPSTREAM_TIMEOUT within the deadline`, async t => {
    const gateway = await startFaultGateway(t, { ...ENV, ...SHORT_DEADLINES })
    for (const call of CALLS) {
      const { answer, elapsed, falCalls } = await withFault(gateway, call, fault)
      checkFailure(t, gateway, answer, { status: 504, code: 'UPSTREAM_TIMEOUT' }, `${fault.mode} on ${call}`)
      t.ok(elapsed >= DEADLINE_MS - 50 && elapsed < DEADLINE_MS + MARGIN_MS, `${fault.mode} on ${call}: answered at the deadline (${elapsed} ms)`)
      t.equal(falCalls, 1, `${fault.mode} on ${call}: one call to fal (a timeout has used the deadline up)`)
    }
  })
}

t.test('fal 5xx storm: 502 UPSTREAM_ERROR; reads retried, submit, cancel and upload sent once', async t => {
  const gateway = await startFaultGateway(t, ENV)
  for (const call of CALLS) {
    const { answer, elapsed, falCalls } = await withFault(gateway, call, { mode: 'status', status: 503 })
    checkFailure(t, gateway, answer, { status: 502, code: 'UPSTREAM_ERROR' }, `503 storm on ${call}`)
    t.ok(elapsed < DEADLINE_MS + MARGIN_MS, `503 storm on ${call}: answered in ${elapsed} ms`)
    t.equal(falCalls, RETRIED.includes(call) ? 1 + RETRIES : 1, `503 storm on ${call}: ${RETRIED.includes(call) ? 'retried' : 'sent once'}`)
  }
  const { answer, falCalls } = await withFault(gateway, 'status', { mode: 'status', status: 500 })
  checkFailure(t, gateway, answer, { status: 502, code: 'UPSTREAM_ERROR' }, '500 on status')
  t.equal(falCalls, 1, 'a plain 500 is not retried: fal failed the request, it was not busy')
})

t.test('fal resetting the connection: 502 UPSTREAM_UNREACHABLE; only reads are tried again', async t => {
  const gateway = await startFaultGateway(t, ENV)
  for (const call of CALLS) {
    const { answer, elapsed, falCalls } = await withFault(gateway, call, { mode: 'reset' })
    checkFailure(t, gateway, answer, { status: 502, code: 'UPSTREAM_UNREACHABLE' }, `reset on ${call}`)
    t.ok(elapsed < DEADLINE_MS + MARGIN_MS, `reset on ${call}: answered in ${elapsed} ms`)
    t.equal(falCalls, RETRIED.includes(call) ? 1 + RETRIES : 1, `reset on ${call}: ${RETRIED.includes(call) ? 'retried' : 'sent once'}`)
  }
  for (const call of RETRIED) {
    const { answer, falCalls } = await withFault(gateway, call, { mode: 'reset', count: 1 })
    t.ok(answer.status < 500, `one reset on ${call}: the retry gets fal's answer (${answer.status})`)
    t.equal(falCalls, 2, `one reset on ${call}: two calls to fal`)
  }
})

t.test('fal answering garbage: 502 UPSTREAM_MALFORMED, never retried', async t => {
  const gateway = await startFaultGateway(t, ENV)
  for (const call of ['submit', 'status', 'result', 'stream', 'proxy-submit'] as const) {
    const { answer, falCalls } = await withFault(gateway, call, { mode: 'malformed' })
    checkFailure(t, gateway, answer, { status: 502, code: 'UPSTREAM_MALFORMED' }, `malformed on ${call}`)
    t.equal(falCalls, 1, `malformed on ${call}: one call to fal`)
  }
})

t.test("fal rate limiting the gateway: 503 UPSTREAM_BUSY with fal's Retry-After, at once", async t => {
  const gateway = await startFaultGateway(t, { ...ENV, UPSTREAM_RETRY_MAX_MS: '1000' })
  for (const call of CALLS) {
    const { answer, elapsed, falCalls } = await withFault(gateway, call, { mode: 'status', status: 429, retryAfter: 9 })
    checkFailure(t, gateway, answer, { status: 503, code: 'UPSTREAM_BUSY' }, `429 on ${call}`)
    t.equal(answer.headers.get('retry-after'), '9', `429 on ${call}: fal's Retry-After is passed on`)
    t.equal(falCalls, 1, `429 on ${call}: fal asked for longer than the gateway waits, so it did not try again`)
    t.ok(elapsed < MARGIN_MS, `429 on ${call}: answered in ${elapsed} ms`)
  }
})

t.test("fal refusing the gateway's key: 502 GATEWAY_MISCONFIGURED and an error log line", async t => {
  const gateway = await startFaultGateway(t, ENV)
  for (const status of [401, 403]) {
    for (const call of CALLS) {
      const { answer, falCalls } = await withFault(gateway, call, { mode: 'status', status })
      checkFailure(t, gateway, answer, { status: 502, code: 'GATEWAY_MISCONFIGURED' }, `${status} on ${call}`)
      t.notMatch(answer.json().message, /401|403|key|FAL_KEY/i, `${status} on ${call}: the client learns nothing more`)
      t.equal(falCalls, 1, `${status} on ${call}: not retried`)
    }
  }
  const errors = gateway.logs.filter(line => line.includes('"level":50') && line.includes('FAL_KEY'))
  t.equal(errors.length, 2 * CALLS.length, 'one error line per refusal tells the operator to check FAL_KEY')
})

t.test('each operation has its own deadline', async t => {
  const gateway = await startFaultGateway(t, { ...ENV, ...SHORT_DEADLINES, UPSTREAM_TIMEOUT_SUBMIT_MS: '30000', UPSTREAM_TIMEOUT_STATUS_MS: '30000', UPSTREAM_TIMEOUT_RESULT_MS: '400' })
  const slowStatus = await withFault(gateway, 'status', { mode: 'delay', delayMs: 1500 })
  t.equal(slowStatus.answer.status, 202, `a status 1.5 s late, past the other operations' ${DEADLINE_MS} ms, is within UPSTREAM_TIMEOUT_STATUS_MS=30000`)
  const hangingResult = await withFault(gateway, 'result', { mode: 'hang' })
  checkFailure(t, gateway, hangingResult.answer, { status: 504, code: 'UPSTREAM_TIMEOUT' }, 'result hanging')
  t.ok(hangingResult.elapsed >= 390 && hangingResult.elapsed < DEADLINE_MS + MARGIN_MS, `a hanging result is cut by UPSTREAM_TIMEOUT_RESULT_MS=400, not the general 20 s (${hangingResult.elapsed} ms)`)
})
