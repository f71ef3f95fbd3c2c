import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import type { LimitStore, ReserveJobInput } from '../../src/limits/limit-store.js'
import { nextUtcMidnight } from '../../src/limits/utc-day.js'

/**
 * Stores standing for `count` replicas. The memory store is one replica whatever the count;
 * the Redis store gives each replica its own connection to one shared Redis and namespace.
 */
export type ReplicaFactory = (count: number) => Promise<LimitStore[]>

const HOUR = 3_600_000

/** The behaviour every LimitStore implementation must share. */
export function limitStoreSuite (t: Test, replicas: ReplicaFactory): void {
  const reserve = (store: LimitStore, overrides: Partial<ReserveJobInput> = {}) => store.reserveJob({
    clientId: 'ip:192.0.2.1', reservationId: randomUUID(), maxInFlight: 2, dailyQuota: 100, ttlMs: 30_000, ...overrides
  })

  t.test('exactly maxInFlight of 200 concurrent reserves succeed', async t => {
    const stores = await replicas(2)
    const now = Date.now()
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      reserve(stores[i % stores.length]!, { maxInFlight: 10, dailyQuota: 1000, now })))
    const admitted = results.filter(result => result.ok)
    t.equal(admitted.length, 10)
    t.same(admitted.map(result => result.inFlight).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    const refused = results.filter(result => !result.ok)
    t.ok(refused.every(result => result.reason === 'CONCURRENCY_LIMIT' && result.inFlight === 10 && result.retryAfterMs === 30_000))
  })

  t.test('exactly dailyQuota of 200 concurrent reserves succeed, refused until UTC midnight', async t => {
    const stores = await replicas(2)
    const now = Date.now()
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      reserve(stores[i % stores.length]!, { maxInFlight: 1000, dailyQuota: 7, now })))
    t.equal(results.filter(result => result.ok).length, 7)
    const refused = results.filter(result => !result.ok)
    t.ok(refused.every(result => result.reason === 'QUOTA_EXCEEDED' && result.quotaUsed === 7))
    t.equal(refused[0]?.retryAfterMs, nextUtcMidnight(now) - now)

    const tomorrow = nextUtcMidnight(now) + 1000
    const next = await reserve(stores[0]!, { maxInFlight: 1000, dailyQuota: 7, now: tomorrow })
    t.match(next, { ok: true, quotaUsed: 1 }, 'the quota starts afresh on the next UTC day')
  })

  t.test('an exhausted quota is reported before a full concurrency cap', async t => {
    const [store] = await replicas(1)
    t.match(await reserve(store!, { maxInFlight: 1, dailyQuota: 1 }), { ok: true })
    t.match(await reserve(store!, { maxInFlight: 1, dailyQuota: 1 }), { ok: false, reason: 'QUOTA_EXCEEDED' })
  })

  t.test('clients are counted separately', async t => {
    const [store] = await replicas(1)
    t.match(await reserve(store!, { clientId: 'key:a', maxInFlight: 1 }), { ok: true })
    t.match(await reserve(store!, { clientId: 'key:a', maxInFlight: 1 }), { ok: false, reason: 'CONCURRENCY_LIMIT' })
    t.match(await reserve(store!, { clientId: 'key:b', maxInFlight: 1 }), { ok: true })
  })

  t.test('a confirmed job holds its slot until released, on any replica', async t => {
    const [a, b] = await replicas(2)
    const now = Date.now()
    const first = { clientId: 'key:acme', reservationId: randomUUID() }
    t.match(await reserve(a!, { ...first, maxInFlight: 1, now }), { ok: true })
    await a!.confirmJob({ ...first, requestId: 'req-1', ownershipTtlMs: HOUR, jobTtlMs: HOUR, now })
    t.match(await reserve(b!, { clientId: 'key:acme', maxInFlight: 1, now }), { ok: false, reason: 'CONCURRENCY_LIMIT', inFlight: 1, retryAfterMs: HOUR })

    await b!.releaseJob({ requestId: 'req-1' })
    await b!.releaseJob({ requestId: 'req-1' })
    await a!.releaseJob({ requestId: 'never-submitted' })
    t.match(await reserve(a!, { clientId: 'key:acme', maxInFlight: 1, now }), { ok: true, inFlight: 1, quotaUsed: 2 })
    t.equal(await b!.ownerOf('req-1'), 'key:acme', 'ownership outlives the job, so the owner can fetch its result')
  })

  t.test('a cancelled reservation frees its slot and refunds the quota once', async t => {
    const [store] = await replicas(1)
    const held = { clientId: 'key:acme', reservationId: randomUUID() }
    t.match(await reserve(store!, { ...held, maxInFlight: 1, dailyQuota: 1 }), { ok: true, quotaUsed: 1 })
    await store!.cancelReservation({ ...held, refundQuota: true })
    await store!.cancelReservation({ ...held, refundQuota: true })
    const again = { clientId: 'key:acme', reservationId: randomUUID() }
    t.match(await reserve(store!, { ...again, maxInFlight: 1, dailyQuota: 1 }), { ok: true, quotaUsed: 1 })

    await store!.cancelReservation({ ...again, refundQuota: false })
    t.match(await reserve(store!, { maxInFlight: 1, dailyQuota: 1, clientId: 'key:acme' }),
      { ok: false, reason: 'QUOTA_EXCEEDED', inFlight: 0, quotaUsed: 1 }, 'no refund asked, none given')
  })

  t.test('slots expire: a lapsed reservation frees its slot and is not refunded', async t => {
    const [store] = await replicas(1)
    const now = Date.now()
    const held = { clientId: 'key:acme', reservationId: randomUUID() }
    t.match(await reserve(store!, { ...held, maxInFlight: 1, ttlMs: 1000, now }), { ok: true })
    t.match(await reserve(store!, { clientId: 'key:acme', maxInFlight: 1, now: now + 999 }), { ok: false, retryAfterMs: 1 })
    await store!.cancelReservation({ ...held, refundQuota: true, now: now + 1000 })
    t.match(await reserve(store!, { clientId: 'key:acme', maxInFlight: 1, ttlMs: 1000, now: now + 1000 }), { ok: true, inFlight: 1, quotaUsed: 2 })
  })

  t.test('a confirmed job stops counting after jobTtlMs even if never released', async t => {
    const [store] = await replicas(1)
    const now = Date.now()
    const held = { clientId: 'key:acme', reservationId: randomUUID() }
    await reserve(store!, { ...held, maxInFlight: 1, now })
    await store!.confirmJob({ ...held, requestId: 'req-2', ownershipTtlMs: HOUR, jobTtlMs: 5000, now })
    t.match(await reserve(store!, { clientId: 'key:acme', maxInFlight: 1, now: now + 4999 }), { ok: false, reason: 'CONCURRENCY_LIMIT' })
    t.match(await reserve(store!, { clientId: 'key:acme', maxInFlight: 1, now: now + 5000 }), { ok: true })
  })

  t.test('ownership is shared by replicas and expires', async t => {
    const [a, b] = await replicas(2)
    const held = { clientId: 'jwt:alice', reservationId: randomUUID() }
    await reserve(a!, held)
    await a!.confirmJob({ ...held, requestId: 'req-3', ownershipTtlMs: 300, jobTtlMs: HOUR })
    t.equal(await b!.ownerOf('req-3'), 'jwt:alice')
    t.equal(await b!.ownerOf('req-unknown'), undefined)
    await sleep(400)
    t.equal(await a!.ownerOf('req-3'), undefined)
    t.equal(await b!.ownerOf('req-3'), undefined)
  })
}
