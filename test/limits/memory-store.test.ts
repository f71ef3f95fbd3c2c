import { randomUUID } from 'node:crypto'
import t from 'tap'
import { createMemoryLimitStore } from '../../src/limits/memory-store.js'
import { limitStoreSuite } from './store-suite.js'

limitStoreSuite(t, async (count) => {
  const store = createMemoryLimitStore()
  t.teardown(() => store.close())
  return Array.from({ length: count }, () => store)
})

t.test('a full store refuses new clients instead of evicting counters', async t => {
  const store = createMemoryLimitStore({ maxClients: 2 })
  t.teardown(() => store.close())
  const reserve = (clientId: string) => store.reserveJob({ clientId, reservationId: randomUUID(), maxInFlight: 5, dailyQuota: 5, ttlMs: 1000 })
  await reserve('ip:192.0.2.1')
  await reserve('ip:192.0.2.2')
  await t.rejects(reserve('ip:192.0.2.3'), { code: 'STORE_UNAVAILABLE' })
  t.match(await reserve('ip:192.0.2.1'), { ok: true, quotaUsed: 2 }, 'known clients keep their counts')
})

t.test('the oldest ownership records go first beyond the bound', async t => {
  const store = createMemoryLimitStore({ maxOwnedRequests: 2 })
  t.teardown(() => store.close())
  for (const requestId of ['req-1', 'req-2', 'req-3']) {
    await store.confirmJob({ clientId: 'key:a', reservationId: randomUUID(), requestId, ownershipTtlMs: 60_000, jobTtlMs: 1000 })
  }
  t.equal(await store.ownerOf('req-1'), undefined)
  t.equal(await store.ownerOf('req-3'), 'key:a')
})
