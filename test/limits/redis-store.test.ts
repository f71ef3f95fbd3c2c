import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { Redis } from 'ioredis'
import type { LimitStore } from '../../src/limits/limit-store.js'
import { createRedisClient, waitForRedis } from '../../src/redis/redis-client.js'
import { createRedisLimitStore } from '../../src/limits/redis-store.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { limitStoreSuite } from './store-suite.js'

const server = await startRedisServer()
t.teardown(() => server.stop())

async function connect (): Promise<Redis> {
  const client = createRedisClient(server.url)
  t.teardown(() => client.disconnect())
  await waitForRedis(client)
  return client
}

limitStoreSuite(t, async (count) => {
  const prefix = `test-${randomUUID()}:`
  return await Promise.all(Array.from({ length: count }, async () => createRedisLimitStore({ client: await connect(), prefix })))
})

// Generous: only "bounded" versus "hanging" matters, on a machine as busy as it gets.
const BOUND_MS = 5000

async function everyOperation (store: LimitStore): Promise<void> {
  const held = { clientId: 'key:acme', reservationId: randomUUID() }
  await store.reserveJob({ ...held, maxInFlight: 5, dailyQuota: 100, ttlMs: 30_000 })
  await store.confirmJob({ ...held, requestId: `req-${held.reservationId}`, ownershipTtlMs: 60_000, jobTtlMs: 60_000 })
  await store.ownerOf(`req-${held.reservationId}`)
  await store.releaseJob({ requestId: `req-${held.reservationId}` })
  await store.cancelReservation({ ...held, refundQuota: true })
}

async function assertFailsFast (t: Test, store: LimitStore): Promise<void> {
  const operations: Array<[string, () => Promise<unknown>]> = [
    ['reserveJob', () => store.reserveJob({ clientId: 'key:acme', reservationId: randomUUID(), maxInFlight: 5, dailyQuota: 100, ttlMs: 30_000 })],
    ['confirmJob', () => store.confirmJob({ clientId: 'key:acme', reservationId: randomUUID(), requestId: 'req-x', ownershipTtlMs: 1000, jobTtlMs: 1000 })],
    ['cancelReservation', () => store.cancelReservation({ clientId: 'key:acme', reservationId: randomUUID(), refundQuota: true })],
    ['releaseJob', () => store.releaseJob({ requestId: 'req-x' })],
    ['ownerOf', () => store.ownerOf('req-x')]
  ]
  for (const [name, operation] of operations) {
    const started = performance.now()
    await t.rejects(operation(), { code: 'STORE_UNAVAILABLE', statusCode: 503 }, name)
    t.ok(performance.now() - started < BOUND_MS, `${name} failed within ${BOUND_MS} ms`)
  }
}

async function eventuallyWorks (store: LimitStore, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await everyOperation(store)
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(100)
    }
  }
}

t.test('Redis gone, then back: operations fail fast, then recover by themselves', async t => {
  const store = createRedisLimitStore({ client: await connect(), prefix: `outage-${randomUUID()}:` })
  await everyOperation(store)

  await server.kill()
  await assertFailsFast(t, store)
  await server.start()
  await eventuallyWorks(store)

  await server.stop()
  await assertFailsFast(t, store)
  await server.start()
  await eventuallyWorks(store)
})

t.test('Redis frozen: commands time out instead of hanging', async t => {
  const store = createRedisLimitStore({ client: await connect(), prefix: `frozen-${randomUUID()}:` })
  await everyOperation(store)
  server.freeze()
  try {
    await assertFailsFast(t, store)
  } finally {
    server.thaw()
  }
  await eventuallyWorks(store)
})

t.test('keys live under the configured prefix and expire', async t => {
  const client = await connect()
  const prefix = `ns-${randomUUID()}:`
  const store = createRedisLimitStore({ client, prefix })
  await everyOperation(store)
  const keys = await client.keys('*')
  const ours = keys.filter(key => key.startsWith(prefix))
  t.ok(ours.length > 0)
  for (const key of ours) t.ok(await client.pttl(key) > 0, `${key} has an expiry`)
})
