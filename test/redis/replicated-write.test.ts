import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createRedisLimitStore } from '../../src/limits/redis-store.js'
import { createRedisClient, waitForRedis } from '../../src/redis/redis-client.js'
import { createRedisSpendStore } from '../../src/spend/redis-spend-store.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { SUITE_OPTIONS, T0, intent } from '../spend/spend-store-suite.js'

// REDIS_WAIT_REPLICAS=1 against a master with one replica, then with its replica gone: an
// admission no replica confirmed is refused and given back, so a failover has nothing to forget.
const master = await startRedisServer()
t.teardown(() => master.stop())
const replica = await startRedisServer(['--replicaof', '127.0.0.1', String(master.port)])
t.teardown(() => replica.stop())

const client = createRedisClient(master.url, { commandTimeoutMs: 2000 })
t.teardown(() => { client.disconnect() })
await waitForRedis(client)
for (let i = 0; !/slave0:.*state=online/.test(await client.info('replication')); i++) {
  if (i > 400) throw new Error('the replica never came online')
  await sleep(25)
}

const replicaAcks = { replicas: 1, timeoutMs: 200 }
const limits = createRedisLimitStore({ client, prefix: `wait-${randomUUID()}:`, replicaAcks })
const spend = createRedisSpendStore({ ...SUITE_OPTIONS, client, prefix: `wait:{spend-${randomUUID()}}:`, replicaAcks })
const reserve = () => limits.reserveJob({ clientId: 'ip:192.0.2.9', reservationId: randomUUID(), maxInFlight: 10, dailyQuota: 10, ttlMs: 60_000 })
const reservedMicros = async () => (await spend.totals({ period: 'day', key: new Date(T0).toISOString().slice(0, 10), subjects: ['global'] })).global?.reservedMicros

t.test('with the replica up, admissions are confirmed by it and go through', async t => {
  t.match(await reserve(), { ok: true, quotaUsed: 1 }, 'a job slot and a quota unit')
  const reservationId = randomUUID()
  await limits.confirmJob({ clientId: 'ip:192.0.2.9', reservationId, requestId: `req-${reservationId}`, ownershipTtlMs: 60_000, jobTtlMs: 60_000 })
  t.equal(await limits.ownerOf(`req-${reservationId}`), 'ip:192.0.2.9', 'an owner')
  const submit = intent()
  t.match(await spend.begin(submit), { outcome: 'reserved' }, 'money reserved')
  t.same(await spend.confirm({ intent: submit, requestId: 'req-spend' }), { recreated: false }, 'and confirmed')
})

t.test('with the replica gone, they are refused (503) and given back', async t => {
  await replica.kill()
  await t.rejects(reserve(), { code: 'STORE_UNAVAILABLE', statusCode: 503 }, 'no job slot no replica holds')
  await t.rejects(limits.confirmJob({ clientId: 'ip:192.0.2.9', reservationId: randomUUID(), requestId: 'req-x', ownershipTtlMs: 60_000, jobTtlMs: 60_000 }),
    { code: 'STORE_UNAVAILABLE' }, 'an owner no replica holds is not confirmed (the journal repeats it)')
  const before = await reservedMicros()
  await t.rejects(spend.begin(intent()), { code: 'STORE_UNAVAILABLE', statusCode: 503 }, 'no money no replica holds')
  t.equal(await reservedMicros(), before, 'the reservation was given back')
  await replica.start()
})

t.test('the refused reservation did not use the quota', async t => {
  for (let i = 0; !/slave0:.*state=online/.test(await client.info('replication')); i++) {
    if (i > 400) throw new Error('the replica never came back')
    await sleep(25)
  }
  t.match(await reserve(), { ok: true, quotaUsed: 2 }, 'the quota counts the first admission and this one, not the refused one')
})
