import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { createRedisClient, waitForRedis } from '../../src/redis/redis-client.js'
import { createRedisSpendStore } from '../../src/spend/redis-spend-store.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { SUITE_OPTIONS, intent, spendStoreSuite } from './spend-store-suite.js'

const server = await startRedisServer()
t.teardown(() => server.stop())

spendStoreSuite(t, async (count) => {
  const prefix = `test:{spend-${randomUUID()}}:`
  return await Promise.all(Array.from({ length: count }, async () => {
    const client = createRedisClient(server.url)
    t.teardown(() => client.disconnect())
    await waitForRedis(client)
    return createRedisSpendStore({ ...SUITE_OPTIONS, client, prefix })
  }))
})

t.test('a prefix without a hash tag is refused: the scripts could not run on Redis Cluster', async t => {
  const client = createRedisClient(server.url)
  t.teardown(() => client.disconnect())
  t.throws(() => createRedisSpendStore({ ...SUITE_OPTIONS, client, prefix: 'falgw:spend:' }), /hash tag/)
})

t.test('an Idempotency-Key is forgotten after IDEMPOTENCY_TTL_MS, by Redis\'s own clock', async t => {
  const client = createRedisClient(server.url)
  t.teardown(() => client.disconnect())
  await waitForRedis(client)
  const store = createRedisSpendStore({ ...SUITE_OPTIONS, idempotencyTtlMs: 300, client, prefix: `test:{spend-${randomUUID()}}:` })
  const idempotency = { scope: 'scope-ttl', fingerprint: 'body' }
  const first = intent({ idempotency, at: Date.now() })
  await store.begin(first)
  await store.confirm({ intent: first, requestId: 'req-ttl', answer: { statusCode: 202, contentType: 'application/json', body: '{}' } })
  t.match(await store.begin(intent({ idempotency, at: Date.now() })), { outcome: 'replay' })
  await sleep(600)
  t.match(await store.begin(intent({ idempotency, at: Date.now() })), { outcome: 'reserved' }, 'once the TTL has passed, the key is new')
})

t.test('every key the store writes carries the prefix\'s hash tag', async t => {
  const client = createRedisClient(server.url)
  t.teardown(() => client.disconnect())
  await waitForRedis(client)
  const tag = `spend-${randomUUID()}`
  const store = createRedisSpendStore({ ...SUITE_OPTIONS, client, prefix: `test:{${tag}}:` })
  const job = intent({ idempotency: { scope: 'scope-tag', fingerprint: 'body' }, at: Date.now() })
  await store.begin(job)
  await store.confirm({ intent: job, requestId: 'req-tag' })
  await store.settle({ requestId: 'req-tag', actualMicros: 1 })
  const keys = await client.keys(`*${tag}*`)
  t.ok(keys.length >= 6, `${keys.length} keys: record, request, idempotency, day, month, ledger`)
  t.same(keys.filter(key => !key.startsWith(`test:{${tag}}:`)), [])
})
