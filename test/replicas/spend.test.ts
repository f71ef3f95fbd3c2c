import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Pool } from 'undici'
import { waitForRedis } from '../../src/redis/redis-client.js'
import type { TestGateway } from '../helpers/gateway.js'
import { ILLUSION, LAYER, illusionInput, layerInput, operateVia, startCluster, submitVia } from './cluster.js'

/** fal's prices of the seed models (src/models/): one image, and 30 estimated compute seconds. */
const PRICE: Record<string, number> = { [LAYER]: 30_000, [ILLUSION]: 33_300 }
const BURST = 1000
const CLIENTS = 200
const SOCKETS = 100
const GLOBAL_BUDGET = 2_000_000

async function eventually (check: () => boolean | Promise<boolean>, maxMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(50)
  }
  return false
}

t.test('two replicas on Redis, 1,000 concurrent priced submits from 200 clients against a global budget: the admitted jobs fit it, leave less than one job\'s price, and are exactly what fal receives', async t => {
  const { gateways, emulator } = await startCluster(t, {
    env: {
      GLOBAL_BUDGET_DAY_MICRO_USD: String(GLOBAL_BUDGET),
      // Each client is the address a trusted proxy forwards.
      TRUST_PROXY: '127.0.0.1/32',
      RATE_LIMIT_SUBMIT_MAX: '10000',
      MAX_IN_FLIGHT: '10000',
      DAILY_SUBMIT_QUOTA: '10000'
    }
  })
  const pools = gateways.map(gateway => new Pool(gateway.url, { connections: SOCKETS / gateways.length, pipelining: 1 }))
  t.teardown(async () => { await Promise.all(pools.map(pool => pool.close())) })
  const started = Date.now()
  const answers = await Promise.all(Array.from({ length: BURST }, async (_, i) => {
    const appId = i % 2 === 0 ? LAYER : ILLUSION
    const client = `10.0.${Math.floor((i % CLIENTS) / 250)}.${(i % CLIENTS) % 250 + 1}`
    const headers = { 'content-type': 'application/json', 'x-forwarded-for': client }
    const body = JSON.stringify(appId === LAYER ? layerInput : illusionInput)
    const pool = pools[i % pools.length] as Pool
    const response = await (i % 4 < 2
      ? pool.request({ method: 'POST', path: `/queue/${appId}`, headers, body })
      : pool.request({ method: 'POST', path: '/api/fal/proxy', headers: { ...headers, 'x-fal-target-url': `https://queue.fal.run/${appId}` }, body }))
    const text = await response.body.text()
    return { appId, status: response.statusCode, code: response.statusCode >= 400 ? (JSON.parse(text) as { code?: string }).code : undefined }
  }))
  t.comment(`burst answered in ${Date.now() - started} ms`)
  const admitted = answers.filter(answer => answer.status < 300)
  const spent = admitted.reduce((sum, answer) => sum + (PRICE[answer.appId] ?? 0), 0)
  t.same(answers.filter(answer => answer.status >= 300 && answer.code !== 'BUDGET_EXCEEDED'), [], 'every answer is an acceptance or BUDGET_EXCEEDED')
  t.ok(spent <= GLOBAL_BUDGET, `the admitted jobs (${admitted.length}, $${spent / 1e6}) fit the global budget`)
  t.ok(spent > GLOBAL_BUDGET - (PRICE[ILLUSION] ?? 0), 'and leave less than one job\'s price unused')
  t.equal(emulator.callsOf('submit').length, admitted.length, 'fal received exactly the admitted jobs')
  const totals = await (gateways[0] as TestGateway).app.spend.store.allTotals({ period: 'day', key: new Date().toISOString().slice(0, 10) })
  t.equal(totals.global?.reservedMicros, spent, 'the shared ledger holds exactly their price')
})

t.test('Idempotency-Key across two replicas: 20 concurrent submits start one job, all get its request_id or a 409, and a repeat on either replica replays', async t => {
  const { gateways, emulator } = await startCluster(t, { env: { RATE_LIMIT_SUBMIT_MAX: '1000' } })
  const headers = { 'idempotency-key': 'checkout-42' }
  emulator.faults.set({ mode: 'hold', operations: ['submit'] })
  const answers: Array<{ status: number, body: any }> = []
  const pending = Array.from({ length: 20 }, async (_, i) => {
    const answer = await submitVia(gateways[i % 2] as TestGateway, 'typed', { appId: LAYER, headers })
    answers.push({ status: answer.status, body: answer.json() })
  })
  t.ok(await eventually(() => emulator.callsOf('submit').length === 1 && answers.length === 19), 'one submit reached fal')
  emulator.faults.clear()
  await Promise.all(pending)
  const ids = new Set(answers.filter(answer => answer.status === 202).map(answer => answer.body.request_id))
  t.equal(ids.size, 1, 'one request_id')
  t.ok(answers.every(answer => answer.status === 202 || (answer.status === 409 && answer.body.code === 'IDEMPOTENCY_KEY_IN_USE')), 'the rest 409')
  for (const gateway of gateways) {
    const again = await submitVia(gateway, 'typed', { appId: LAYER, headers })
    t.equal(again.json().request_id, [...ids][0], 'a repeat on either replica replays the same request_id')
  }
  const other = await submitVia(gateways[1] as TestGateway, 'typed', { appId: LAYER, headers, input: { prompt: 'another' } })
  t.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
  t.equal(emulator.callsOf('submit').length, 1, 'fal received one job')
})

t.test('Redis killed between fal\'s acceptance and the ownership write: the job is owned and charged once Redis is back; nothing unowned', async t => {
  const { gateways, emulator, redis } = await startCluster(t, {
    replicas: 1,
    env: { CLIENT_BUDGET_DAY_MICRO_USD: '1000000', REDIS_COMMAND_TIMEOUT_MS: '2000', UPSTREAM_TIMEOUT_MS: '60000', TRUST_PROXY: '127.0.0.1/32' }
  })
  const gateway = gateways[0] as TestGateway
  if (redis === undefined) throw new Error('the cluster has a Redis')
  emulator.faults.set({ mode: 'hold', operations: ['submit'] })
  const submitted = submitVia(gateway, 'typed', { appId: LAYER })
  t.ok(await eventually(() => emulator.callsOf('submit').length === 1), 'the write-ahead record is written and the submit is at fal')
  await redis.kill()
  // fal accepts the job only now, with the store gone.
  emulator.faults.clear()
  const answer = await submitted
  t.equal(answer.status, 202, 'the client still gets fal\'s request id')
  const requestId = answer.json().request_id
  t.ok(gateway.logs.some(line => line.includes('kept on this node until the store returns')), 'the gateway kept the job in its journal')
  t.equal(gateway.app.spend.writeAhead.journal.size, 1)

  await redis.start()
  await waitForRedis(gateway.app.redis as NonNullable<typeof gateway.app.redis>)
  t.ok(await eventually(() => gateway.app.spend.writeAhead.journal.size === 0), 'the recovery path wrote the job as soon as Redis answered')
  t.ok(gateway.logs.some(line => line.includes('owned and reserved again')), 'logged')
  const recoveries = await gateway.app.metrics.spend.submitRecoveries.get()
  t.match(recoveries.values, [{ labels: { outcome: 'confirmed_late' }, value: 1 }], 'and counted in fal_gateway_submit_recoveries_total')

  const status = await operateVia(gateway, 'typed', 'status', requestId, { appId: LAYER })
  t.ok(status.status === 200 || status.status === 202, 'the job is owned by the client that submitted it')
  t.equal((await operateVia(gateway, 'typed', 'status', requestId, { appId: LAYER, headers: { 'x-forwarded-for': '10.9.9.9' } })).status, 404, 'another client cannot reach it')
  const usage = (await gateway.request('/v1/usage')).json().periods[0]
  t.equal(usage.reserved_micro_usd, PRICE[LAYER], 'and its price is reserved against the client, to be settled or charged')
})
