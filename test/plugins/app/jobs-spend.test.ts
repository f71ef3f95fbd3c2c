import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createEmulator } from '../../../src/emulator/emulator.js'
import { FAL_KEY, json, startGateway, startGatewayOn, type TestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/free-port.js'
import { KEYS, writePolicyFile } from '../policy-fixture.js'
import { submitVia } from '../../replicas/cluster.js'
import { ILLUSION, LAYER, illusionInput, layerInput, pollUntilCompleted } from '../../routes/queue/queue-client.js'

/** fal's price of a Layer Diffusion job: one image at $0.03 (src/models/layer-diffusion.ts). */
const LAYER_PRICE = 30_000

async function eventually (check: () => boolean | Promise<boolean>, maxMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(20)
  }
  return false
}

/** The calling client's money today, from its own usage API. */
async function today (gateway: TestGateway, headers: Record<string, string> = {}): Promise<{ charged_micro_usd: number, reserved_micro_usd: number, remaining_micro_usd: number | null }> {
  return (await gateway.request('/v1/usage', { headers })).json().periods[0]
}

t.test('a $0.10 daily budget admits the jobs that fit and refuses exactly the one that would exceed it; fal receives nothing more', async t => {
  const gateway = await startGateway(t, { env: { CLIENT_BUDGET_DAY_MICRO_USD: '100000' } })
  const remaining: Array<string | null> = []
  for (const route of ['typed', 'proxy', 'typed'] as const) {
    const answer = await submitVia(gateway, route, { appId: LAYER })
    t.equal(answer.status, route === 'typed' ? 202 : 200, `${route}: a $0.03 job fits`)
    remaining.push(answer.headers.get('x-budget-remaining'))
    t.ok(Number(answer.headers.get('x-budget-reset')) > 0, 'X-Budget-Reset counts the seconds to UTC midnight')
  }
  t.same(remaining, ['70000', '40000', '10000'], 'X-Budget-Remaining after each, in micro-USD')

  for (const route of ['typed', 'proxy'] as const) {
    const refused = await submitVia(gateway, route, { appId: LAYER })
    t.equal(refused.status, 429, `${route}: the fourth $0.03 job would exceed $0.10`)
    t.match(refused.json(), { code: 'BUDGET_EXCEEDED', message: /client:day.*\$0\.01 of \$0\.1 remains.*costs \$0\.03/ })
    t.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After until the budget resets')
    t.equal(refused.headers.get('x-budget-remaining'), '10000')
  }
  const illusion = await submitVia(gateway, 'typed', { appId: ILLUSION })
  t.match(illusion.json(), { code: 'BUDGET_EXCEEDED', message: /costs \$0\.0333/ }, 'Illusion Diffusion is priced at 30 estimated compute seconds of $0.00111')
  t.equal(gateway.emulator.callsOf('submit').length, 3, 'fal received the three admitted jobs and nothing else')
  t.match(await today(gateway), { reserved_micro_usd: 3 * LAYER_PRICE, remaining_micro_usd: 10_000 })
})

t.test('the global budget stops every client, whatever its own budget', async t => {
  const gateway = await startGateway(t, {
    env: { POLICY_FILE: writePolicyFile(t, { pro: { clientBudget: { dayMicroUsd: 10_000_000 } }, globalBudget: { dayMicroUsd: 2 * LAYER_PRICE } }) }
  })
  for (let i = 0; i < 2; i++) t.equal((await submitVia(gateway, 'typed', { appId: LAYER, bearer: KEYS.alice })).status, 202, 'alice uses the whole account\'s budget')
  for (const [who, key] of [['bob', KEYS.bob], ['an anonymous client', undefined]] as const) {
    const refused = await submitVia(gateway, 'proxy', { appId: LAYER, ...(key === undefined ? {} : { bearer: key }) })
    t.equal(refused.status, 429, `${who} is refused`)
    t.match(refused.json(), { code: 'BUDGET_EXCEEDED', message: /global:day/ })
  }
  t.equal(gateway.emulator.callsOf('submit').length, 2)
})

t.test('money follows the job: a cancel before it starts and a job that ends in error give it back, a completed job is charged its output, a reservation never settled expires into a charge', async t => {
  const gateway = await startGateway(t, { env: { CLIENT_BUDGET_DAY_MICRO_USD: '1000000' }, emulator: { queueMs: 60, processingMs: 60 } })
  gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })

  const cancelled = (await submitVia(gateway, 'typed', { appId: LAYER })).json().request_id
  t.match(await today(gateway), { reserved_micro_usd: LAYER_PRICE, charged_micro_usd: 0 }, 'a submit reserves its price')
  t.equal((await gateway.request(`/queue/${LAYER}/requests/${cancelled}/cancel`, { method: 'PUT' })).status, 202)
  t.ok(await eventually(async () => (await today(gateway)).reserved_micro_usd === 0), 'the cancel before start gave the reservation back')
  t.equal((await today(gateway)).charged_micro_usd, 0, 'nothing charged')

  // A job fal ends in error (cancelled at fal behind the gateway's back): the status poll that says so gives the money back.
  const failed = (await submitVia(gateway, 'proxy', { appId: LAYER })).json().request_id
  const atFal = await fetch(`${gateway.emulatorUrl}/${LAYER}/requests/${failed}/cancel`, { method: 'PUT', headers: { authorization: `Key ${FAL_KEY}` } })
  t.equal(atFal.status, 202)
  const status = await gateway.request(`/queue/${LAYER}/requests/${failed}/status`)
  t.match(status.json(), { status: 'COMPLETED', error: /cancelled/ })
  t.ok(await eventually(async () => (await today(gateway)).reserved_micro_usd === 0), 'the failed job\'s reservation went back')
  t.equal((await today(gateway)).charged_micro_usd, 0, 'fal bills successful outputs only')

  gateway.emulator.jobs.release({ phase: 'IN_QUEUE' })
  const completed = (await submitVia(gateway, 'typed', { appId: LAYER })).json().request_id
  t.equal((await pollUntilCompleted(gateway, `/queue/${LAYER}/requests/${completed}/status`)).at(-1)?.status, 200)
  t.equal((await gateway.request(`/queue/${LAYER}/requests/${completed}`)).status, 200, 'the result is fetched')
  t.ok(await eventually(async () => (await today(gateway)).charged_micro_usd === LAYER_PRICE), 'the completed job is charged its one image')
  t.equal((await today(gateway)).reserved_micro_usd, 0)

  gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
  t.equal((await submitVia(gateway, 'typed', { appId: LAYER })).status, 202, 'a job nobody follows again')
  const swept = await gateway.app.spend.store.sweep({ now: Date.now() + gateway.config.spend.reservationExpiryMs + 1000 })
  t.equal(swept.expired.length, 1, 'its reservation expires')
  t.match(await today(gateway), { reserved_micro_usd: 0, charged_micro_usd: 2 * LAYER_PRICE }, 'and is charged, never forgiven')
  gateway.emulator.jobs.release({})
})

t.test('slot, quota and money go back only on proof fal did not take the job', async t => {
  const gateway = await startGateway(t, { env: { CLIENT_BUDGET_DAY_MICRO_USD: '1000000', DAILY_SUBMIT_QUOTA: '10', UPSTREAM_TIMEOUT_SUBMIT_MS: '1000' } })
  gateway.emulator.faults.set({ mode: 'status', status: 500, operations: ['submit'], count: 1 })
  const refused = await submitVia(gateway, 'typed', { appId: LAYER })
  t.equal(refused.status, 502, 'fal answered 500')
  t.match(await today(gateway), { reserved_micro_usd: 0, charged_micro_usd: 0 }, 'fal refused it: the money went back')
  const next = await submitVia(gateway, 'typed', { appId: LAYER })
  t.equal(next.headers.get('x-quota-remaining'), '9', 'and the quota: only this submit counts')

  gateway.emulator.faults.set({ mode: 'hang', operations: ['submit'], count: 1 })
  const lost = await submitVia(gateway, 'proxy', { appId: LAYER })
  t.equal(lost.status, 504, 'fal did not answer in time')
  t.match(await today(gateway), { reserved_micro_usd: 2 * LAYER_PRICE }, 'fal may have the job: its money stays reserved')
  const after = await submitVia(gateway, 'typed', { appId: LAYER })
  t.equal(after.headers.get('x-quota-remaining'), '7', 'and its quota stays used')

  gateway.emulator.faults.set({ mode: 'reset', operations: ['submit'], count: 1 })
  const reset = await submitVia(gateway, 'typed', { appId: LAYER })
  t.equal(reset.status, 502, 'the connection was reset after the submit was sent')
  t.match(await today(gateway), { reserved_micro_usd: 4 * LAYER_PRICE }, 'fal may have that job too: reserved')
  t.equal((await submitVia(gateway, 'typed', { appId: LAYER })).headers.get('x-quota-remaining'), '5', 'and counted')
})

t.test('fal unreachable (connection refused): the submit never left, so nothing is kept', async t => {
  const closedPort = await freePort()
  const gateway = await startGatewayOn(t, createEmulator({ falKey: FAL_KEY }), `http://127.0.0.1:${closedPort}`, { CLIENT_BUDGET_DAY_MICRO_USD: '1000000', DAILY_SUBMIT_QUOTA: '10' })
  for (let i = 0; i < 3; i++) {
    const refused = await submitVia(gateway, i % 2 === 0 ? 'typed' : 'proxy', { appId: LAYER })
    t.equal(refused.status, 502)
    t.equal(refused.json().code, 'UPSTREAM_UNREACHABLE')
    t.equal(refused.headers.get('x-quota-remaining'), '9', 'each attempt counted only while it ran, then given back')
  }
  t.match(await today(gateway), { reserved_micro_usd: 0, charged_micro_usd: 0 }, 'and no money is held')
})

t.test('Idempotency-Key: 20 concurrent submits start one job; a repeat replays; another body is refused', async t => {
  const gateway = await startGateway(t, { env: { RATE_LIMIT_SUBMIT_MAX: '1000' } })
  const headers = { 'content-type': 'application/json', 'idempotency-key': 'order-4711' }
  gateway.emulator.faults.set({ mode: 'hold', operations: ['submit'] })
  const answers: Array<{ status: number, body: any }> = []
  const pending = Array.from({ length: 20 }, async () => {
    const answer = await gateway.request(`/queue/${LAYER}`, { method: 'POST', headers, body: JSON.stringify(layerInput) })
    answers.push({ status: answer.status, body: answer.json() })
  })
  t.ok(await eventually(() => gateway.emulator.callsOf('submit').length === 1 && answers.length === 19), 'one submit reached fal; the others were answered at once')
  gateway.emulator.faults.clear()
  await Promise.all(pending)
  const accepted = answers.filter(answer => answer.status === 202)
  t.equal(accepted.length, 1, 'one acceptance')
  t.ok(answers.filter(answer => answer.status !== 202).every(answer => answer.status === 409 && answer.body.code === 'IDEMPOTENCY_KEY_IN_USE'), 'every other submit was 409 IDEMPOTENCY_KEY_IN_USE')
  const requestId = accepted[0]?.body.request_id

  const again = await gateway.request(`/queue/${LAYER}`, { method: 'POST', headers, body: JSON.stringify({ ...layerInput }) })
  t.equal(again.status, 202, 'a repeat after the answer replays it')
  t.equal(again.json().request_id, requestId, 'same request_id')
  t.equal(again.headers.get('idempotent-replayed'), 'true')
  const reordered = Object.fromEntries(Object.entries(layerInput).reverse())
  t.equal((await gateway.request(`/queue/${LAYER}`, { method: 'POST', headers, body: JSON.stringify(reordered) })).json().request_id, requestId, 'the body\'s key order changes nothing')
  const other = await gateway.request(`/queue/${LAYER}`, { method: 'POST', headers, body: JSON.stringify({ ...layerInput, prompt: 'something else' }) })
  t.equal(other.status, 422)
  t.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
  t.equal(gateway.emulator.callsOf('submit').length, 1, 'fal received one job in all')

  const proxied = async (key: string, body: unknown) => await gateway.request('/api/fal/proxy', { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': key, 'x-fal-target-url': `https://queue.fal.run/${LAYER}` }, body: JSON.stringify(body) })
  const first = await proxied('proxy-1', layerInput)
  const repeat = await proxied('proxy-1', layerInput)
  t.equal(repeat.status, 200, 'the proxy route replays fal\'s own answer')
  t.equal(repeat.headers.get('x-fal-request-id'), first.headers.get('x-fal-request-id'), 'with the same request id, as @fal-ai/client reads it')
  t.equal(repeat.text, first.text)
  t.equal(gateway.emulator.callsOf('submit').length, 2)

  const invalid = await gateway.request(`/queue/${LAYER}`, { ...json({ ...layerInput, num_inference_steps: 'many' }), headers: { 'content-type': 'application/json', 'idempotency-key': 'refused-first' } })
  t.equal(invalid.status, 422, 'a submit refused before fal...')
  const valid = await gateway.request(`/queue/${LAYER}`, { ...json(layerInput), headers: { 'content-type': 'application/json', 'idempotency-key': 'refused-first' } })
  t.equal(valid.status, 202, '...did not store its key')
  const tooLong = await gateway.request(`/queue/${LAYER}`, { ...json(layerInput), headers: { 'content-type': 'application/json', 'idempotency-key': 'k'.repeat(256) } })
  t.equal(tooLong.json().code, 'IDEMPOTENCY_KEY_INVALID', 'a key over 255 characters is refused')
  t.equal(gateway.emulator.callsOf('submit').length, 3)
})

t.test('CORS exposes the budget headers to allowlisted pages', async t => {
  const gateway = await startGateway(t, { env: { CORS_ORIGINS: 'https://app.example.com', CLIENT_BUDGET_DAY_MICRO_USD: '100000' } })
  const answer = await gateway.request(`/queue/${LAYER}`, { ...json(layerInput), headers: { 'content-type': 'application/json', origin: 'https://app.example.com' } })
  t.match(answer.headers.get('access-control-expose-headers'), /x-budget-remaining.*x-budget-reset/)
  t.equal(answer.headers.get('x-budget-remaining'), '70000')
  const preflight = await gateway.request(`/queue/${LAYER}`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,idempotency-key' } })
  t.match(preflight.headers.get('access-control-allow-headers'), /idempotency-key/, 'a page may send an Idempotency-Key')
})

t.test('with FAL_ADMIN_KEY a completed job is charged what fal\'s billing events say it billed, not the estimate', async t => {
  const adminKey = 'admin-key-id:admin-key-secret-83d1'
  const emulator = createEmulator({ falKey: FAL_KEY, adminKey, queueMs: 60, processingMs: 120 })
  const emulatorUrl = await emulator.listen()
  t.teardown(() => emulator.close())
  const gateway = await startGatewayOn(t, emulator, emulatorUrl, { FAL_ADMIN_KEY: adminKey, FAL_API_URL: emulatorUrl, CLIENT_BUDGET_DAY_MICRO_USD: '1000000' })
  const submitted = await submitVia(gateway, 'typed', { appId: ILLUSION, input: illusionInput })
  t.equal(submitted.headers.get('x-budget-remaining'), '966700', 'reserved at the estimate: 30 compute seconds of $0.00111')
  const requestId = submitted.json().request_id
  await pollUntilCompleted(gateway, `/queue/${ILLUSION}/requests/${requestId}/status`)
  t.equal((await gateway.request(`/queue/${ILLUSION}/requests/${requestId}`)).status, 200)

  t.ok(await eventually(async () => (await today(gateway)).reserved_micro_usd === 0), 'the job is settled')
  t.equal(emulator.callsOf('billing-events').length, 1, 'fal was asked once')
  t.equal(emulator.callsOf('billing-events')[0]?.headers.authorization, `Key ${adminKey}`, 'with the admin key, not FAL_KEY')
  const events = await (await fetch(`${emulatorUrl}/v1/models/billing-events?request_id=${requestId}`, { headers: { authorization: `Key ${adminKey}` } })).json() as { billing_events: Array<{ cost_estimate_nano_usd: number }> }
  const billed = Math.ceil((events.billing_events[0]?.cost_estimate_nano_usd ?? NaN) / 1000)
  t.ok(billed > 0 && billed < 33_300, `fal billed ${billed} micro-USD for the compute seconds the job took`)
  t.equal((await today(gateway)).charged_micro_usd, billed, 'the job is charged exactly that')
  t.same(gateway.logs.filter(line => line.includes('admin-key-secret')), [], 'the admin key is in no log line')
})
