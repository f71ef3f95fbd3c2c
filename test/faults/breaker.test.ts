import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { BreakerEvent } from '../../src/upstream/breakers.js'
import { MARGIN_MS, checkFailure, ownedRequest, perform, startFaultGateway, timed } from './fault-client.js'

// Long enough that the breaker stays open while a loaded machine makes the calls the test needs.
const RESET_MS = 4000
const VOLUME = 4
const SUBMIT_DEADLINE_MS = 500
const ENV = {
  // Far off, so calls the test does not fault are answered however busy the machine.
  UPSTREAM_TIMEOUT_MS: '30000',
  UPSTREAM_RETRIES: '0',
  BREAKER_VOLUME_THRESHOLD: String(VOLUME),
  BREAKER_ERROR_THRESHOLD_PERCENT: '50',
  BREAKER_RESET_MS: String(RESET_MS)
}

t.test('a 5xx storm opens the breaker: fast 503 CIRCUIT_OPEN, fal left alone, then it recovers', async t => {
  const gateway = await startFaultGateway(t, ENV)
  const events: BreakerEvent[] = []
  gateway.app.upstream.breakers.onEvent(event => events.push(event))
  const requestId = await ownedRequest(gateway)

  gateway.emulator.faults.set({ mode: 'status', status: 503, operations: ['status'] })
  for (let i = 0; i < VOLUME; i++) {
    checkFailure(t, gateway, await perform(gateway, 'status', requestId), { status: 502, code: 'UPSTREAM_ERROR' }, `storm call ${i + 1}`)
  }
  t.same(gateway.app.upstream.breakers.states().find(b => b.operation === 'status'), { operation: 'status', state: 'open' }, 'the status breaker is open')

  const before = gateway.emulator.callsOf('status').length
  for (const call of ['status', 'proxy-status'] as const) {
    const { value: refused, elapsed } = await timed(() => perform(gateway, call, requestId))
    checkFailure(t, gateway, refused, { status: 503, code: 'CIRCUIT_OPEN' }, `${call} while open`)
    const retryAfter = Number(refused.headers.get('retry-after'))
    t.ok(retryAfter >= 1 && retryAfter <= RESET_MS / 1000, `${call} while open: Retry-After is the reset time left (${retryAfter} s)`)
    t.ok(elapsed < MARGIN_MS, `${call} while open: answered at once (${elapsed} ms)`)
  }
  t.equal(gateway.emulator.callsOf('status').length, before, 'fal received no status call while the breaker was open')
  t.equal((await perform(gateway, 'result', requestId)).status, 400, 'other operations still reach fal (result: not ready yet)')

  gateway.emulator.faults.clear()
  await sleep(RESET_MS + 200)
  t.equal(gateway.app.upstream.breakers.states().find(b => b.operation === 'status')?.state, 'half-open', 'after the reset time it lets a probe through')
  const probe = await perform(gateway, 'status', requestId)
  t.equal(probe.status, 202, 'the probe reaches a healthy fal')
  t.equal(gateway.app.upstream.breakers.states().find(b => b.operation === 'status')?.state, 'closed', 'and closes the breaker')
  t.equal((await perform(gateway, 'proxy-status', requestId)).status, 202, 'calls flow again')
  t.same(events.filter(e => e.operation === 'status' && e.type !== 'rejected').map(e => e.type), ['opened', 'half-opened', 'closed'])
  t.equal(events.filter(e => e.type === 'rejected').length, 2, 'each refused call is reported')
})

t.test('a breaker that opens on submits still never sends one twice, and a failed probe reopens it', async t => {
  const gateway = await startFaultGateway(t, { ...ENV, UPSTREAM_TIMEOUT_SUBMIT_MS: String(SUBMIT_DEADLINE_MS) })
  gateway.emulator.faults.set({ mode: 'hang', operations: ['submit'] })
  for (let i = 0; i < VOLUME; i++) {
    const { value: answer, elapsed } = await timed(() => perform(gateway, 'submit', ''))
    checkFailure(t, gateway, answer, { status: 504, code: 'UPSTREAM_TIMEOUT' }, `hanging submit ${i + 1}`)
    t.ok(elapsed < SUBMIT_DEADLINE_MS + MARGIN_MS, `hanging submit ${i + 1}: ${elapsed} ms`)
  }
  t.equal(gateway.emulator.callsOf('submit').length, VOLUME, 'one fal call per submit')
  const refused = await perform(gateway, 'proxy-submit', '')
  checkFailure(t, gateway, refused, { status: 503, code: 'CIRCUIT_OPEN' }, 'submit while open')
  t.equal(gateway.emulator.callsOf('submit').length, VOLUME, 'the refused submit never reached fal')

  gateway.emulator.faults.set({ mode: 'status', status: 502, operations: ['submit'] })
  await sleep(RESET_MS + 200)
  checkFailure(t, gateway, await perform(gateway, 'submit', ''), { status: 502, code: 'UPSTREAM_ERROR' }, 'failed probe')
  t.equal(gateway.app.upstream.breakers.states().find(b => b.operation === 'submit')?.state, 'open', 'a failed probe opens it again')
  checkFailure(t, gateway, await perform(gateway, 'submit', ''), { status: 503, code: 'CIRCUIT_OPEN' }, 'after the failed probe')
  t.equal(gateway.emulator.callsOf('submit').length, VOLUME + 1, 'only the probe reached fal')
})
