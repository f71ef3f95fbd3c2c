import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { createBreakers, type BreakerEvent } from '../../src/upstream/breakers.js'
import { FalFailure } from '../../src/upstream/fal-failure.js'

const options = { errorThresholdPercent: 50, volumeThreshold: 4, resetMs: 300, windowMs: 10_000 }

function setup (t: Test) {
  const breakers = createBreakers(options)
  const events: BreakerEvent[] = []
  breakers.onEvent(event => events.push(event))
  t.teardown(() => { breakers.shutdown() })
  return { breakers, events }
}

const fail = (error: Error) => async (): Promise<never> => { throw error }

t.test('repeated 5xx open the breaker: calls then fail at once, without running', async t => {
  const { breakers, events } = setup(t)
  for (let i = 0; i < 4; i++) {
    await t.rejects(breakers.fire('status', fail(new FalFailure({ kind: 'answered', status: 502 }))), { message: 'fal answered 502' })
  }
  t.same(breakers.states().find(s => s.operation === 'status'), { operation: 'status', state: 'open' })
  t.same(breakers.states().find(s => s.operation === 'submit'), { operation: 'submit', state: 'closed' }, 'each operation has its own')
  let ran = false
  const refused = breakers.fire('status', async () => { ran = true })
  await t.rejects(refused, FalFailure)
  await refused.catch((error: FalFailure) => { t.same(error.outcome, { kind: 'circuit-open', retryAfterSeconds: 1 }, 'Retry-After: the reset time left, rounded up') })
  t.notOk(ran, 'the call never ran')
  t.same(events, [{ operation: 'status', type: 'opened', state: 'open' }, { operation: 'status', type: 'rejected', state: 'open' }])
})

t.test('after the reset time one probe goes through; success closes the breaker', async t => {
  const { breakers, events } = setup(t)
  for (let i = 0; i < 4; i++) await breakers.fire('result', fail(new FalFailure({ kind: 'timeout' }))).catch(() => {})
  t.equal(breakers.states().find(s => s.operation === 'result')?.state, 'open')
  await sleep(options.resetMs + 100)
  t.equal(breakers.states().find(s => s.operation === 'result')?.state, 'half-open')
  t.equal(await breakers.fire('result', async () => 'fine'), 'fine')
  t.equal(breakers.states().find(s => s.operation === 'result')?.state, 'closed')
  t.same(events.map(e => e.type), ['opened', 'half-opened', 'closed'])
})

t.test('a failed probe opens the breaker again', async t => {
  const { breakers } = setup(t)
  for (let i = 0; i < 4; i++) await breakers.fire('cancel', fail(new FalFailure({ kind: 'timeout' }))).catch(() => {})
  await sleep(options.resetMs + 100)
  await t.rejects(breakers.fire('cancel', fail(new FalFailure({ kind: 'answered', status: 503 }))), { message: 'fal answered 503' })
  t.equal(breakers.states().find(s => s.operation === 'cancel')?.state, 'open')
})

t.test("fal's 4xx and the client leaving never open it", async t => {
  const { breakers } = setup(t)
  for (const status of [400, 401, 403, 404, 422, 429]) {
    for (let i = 0; i < 3; i++) await breakers.fire('submit', fail(new FalFailure({ kind: 'answered', status }))).catch(() => {})
  }
  for (let i = 0; i < 5; i++) await breakers.fire('submit', fail(new Error('client disconnected'))).catch(() => {})
  t.equal(breakers.states().find(s => s.operation === 'submit')?.state, 'closed')
})
