import { randomUUID } from 'node:crypto'
import type { Test } from 'tap'
import type { BudgetLimit } from '../../src/spend/budget-limits.js'
import type { LedgerEntry, SpendStore, SpendStoreOptions, SubmitIntent } from '../../src/spend/spend-store.js'
import { periodEnd, periodKey } from '../../src/spend/utc-periods.js'

/**
 * Stores standing for `count` replicas: the memory store is one replica whatever the count; the
 * Redis store gives each its own connection to one Redis and one namespace.
 */
export type SpendReplicas = (count: number) => Promise<SpendStore[]>

const HOUR = 3_600_000
export const SUITE_OPTIONS: SpendStoreOptions = {
  reservationExpiryMs: HOUR,
  unconfirmedAfterMs: 60_000,
  idempotencyTtlMs: 24 * HOUR,
  retentionMs: 90 * 24 * HOUR
}

/**
 * 10:00 UTC on a known day, so that periods and resets are known; next year's, because Redis
 * expires keys by its own clock and a day in the past would have expired them all already.
 */
const YEAR = new Date().getUTCFullYear() + 1
export const T0 = Date.UTC(YEAR, 4, 14, 10)
const FLUX_JOB = 25_000

const budget = (name: BudgetLimit['name'], subject: string, limitMicros: number): BudgetLimit => {
  const [scope, period] = name.split(':') as [BudgetLimit['scope'], BudgetLimit['period']]
  return { name, scope, subject, period, limitMicros }
}

export function intent (overrides: Partial<SubmitIntent> = {}): SubmitIntent {
  return {
    reservationId: randomUUID(),
    clientId: 'key:acme',
    tier: 'pro',
    endpointId: 'fal-ai/flux/dev',
    amountMicros: FLUX_JOB,
    budgets: [],
    at: T0,
    ...overrides
  }
}

const answer = (requestId: string) => ({ statusCode: 202, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ request_id: requestId, status: 'IN_QUEUE' }) })

async function ledgerOf (store: SpendStore, from = T0 - HOUR, to = T0 + 400 * 24 * HOUR): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = []
  for await (const page of store.ledger({ from, to })) entries.push(...page)
  return entries
}

/** The behaviour every SpendStore must share. */
export function spendStoreSuite (t: Test, replicas: SpendReplicas): void {
  t.test('a $0.10 daily client budget at flux/dev prices admits exactly four $0.025 jobs', async t => {
    const [store] = await replicas(1)
    const budgets = [budget('client:day', 'client:key:acme', 100_000)]
    for (let i = 1; i <= 4; i++) {
      const begun = await store!.begin(intent({ budgets }))
      t.match(begun, { outcome: 'reserved', standings: [{ usedMicros: FLUX_JOB * i, remainingMicros: 100_000 - FLUX_JOB * i }] }, `job ${i}`)
    }
    const refused = await store!.begin(intent({ budgets }))
    t.match(refused, { outcome: 'refused', standing: { budget: { name: 'client:day' }, usedMicros: 100_000, remainingMicros: 0, resetAt: periodEnd('day', T0) } })
    t.match(await store!.begin(intent({ budgets, clientId: 'key:other' })), { outcome: 'refused' }, 'the budget object names its subject: the same subject refuses')
    t.match(await store!.begin(intent({ budgets: [budget('client:day', 'client:key:other', 100_000)], clientId: 'key:other' })), { outcome: 'reserved' }, 'another client has its own')
    const nextDay = await store!.begin(intent({ budgets, at: periodEnd('day', T0) + 1 }))
    t.match(nextDay, { outcome: 'reserved', standings: [{ usedMicros: FLUX_JOB }] }, 'the budget starts afresh at UTC midnight')
  })

  t.test('a job that would exceed any budget is refused, naming the one that resets last', async t => {
    const [store] = await replicas(1)
    const budgets = [
      budget('client:day', 'client:key:acme', 60_000),
      budget('client:month', 'client:key:acme', 60_000),
      budget('global:day', 'global', 1_000_000)
    ]
    t.match(await store!.begin(intent({ budgets, amountMicros: 50_000 })), { outcome: 'reserved' })
    const refused = await store!.begin(intent({ budgets, amountMicros: 20_000 }))
    t.match(refused, { outcome: 'refused', standing: { budget: { name: 'client:month' }, remainingMicros: 10_000, resetAt: periodEnd('month', T0) } })
    t.match(await store!.begin(intent({ budgets, amountMicros: 10_000 })), { outcome: 'reserved', standings: [{ remainingMicros: 0 }, { remainingMicros: 0 }, { remainingMicros: 940_000 }] }, 'exactly to the limit fits')
  })

  t.test('the global budget stops every client, on every replica', async t => {
    const stores = await replicas(2)
    const global = budget('global:day', 'global', 100_000)
    const begins = await Promise.all(Array.from({ length: 12 }, (_, i) => stores[i % 2]!.begin(intent({
      clientId: `ip:192.0.2.${i}`,
      budgets: [budget('client:day', `client:ip:192.0.2.${i}`, 1_000_000), global]
    }))))
    t.equal(begins.filter(begun => begun.outcome === 'reserved').length, 4)
    t.ok(begins.filter(begun => begun.outcome === 'refused').every(begun => begun.outcome === 'refused' && begun.standing.budget.name === 'global:day'))
  })

  t.test('200 concurrent reservations from 50 clients on two replicas never exceed the global budget', async t => {
    const stores = await replicas(2)
    const global = budget('global:day', 'global', 1_000_000)
    const begins = await Promise.all(Array.from({ length: 200 }, (_, i) => stores[i % 2]!.begin(intent({
      clientId: `key:c${i % 50}`,
      amountMicros: 10_000 + (i % 7) * 5_000,
      budgets: [global]
    }))))
    const admitted = begins.flatMap((begun, i) => begun.outcome === 'reserved' ? [10_000 + (i % 7) * 5_000] : [])
    const total = admitted.reduce((sum, amount) => sum + amount, 0)
    t.ok(total <= 1_000_000, `admitted ${total} micro-USD`)
    t.ok(total > 1_000_000 - 40_000, 'and no less than the budget minus the largest job')
    const totals = await stores[0]!.totals({ period: 'day', key: periodKey('day', T0), subjects: ['global'] })
    t.same(totals.global, { reservedMicros: total, chargedMicros: 0 }, 'the counter agrees to the micro-USD')
  })

  t.test('abort and release give the money back once; settle charges the output once', async t => {
    const [a, b] = await replicas(2)
    const budgets = [budget('client:day', 'client:key:acme', 50_000)]
    const refused = intent({ budgets })
    t.match(await a!.begin(refused), { outcome: 'reserved' })
    t.match(await a!.abort({ reservationId: refused.reservationId, now: T0 }), { event: 'release', reservedDeltaMicros: -FLUX_JOB })
    t.equal(await b!.abort({ reservationId: refused.reservationId, now: T0 }), undefined, 'a second abort changes nothing')

    const cancelled = intent({ budgets })
    await a!.begin(cancelled)
    await a!.confirm({ intent: cancelled, requestId: 'req-cancelled' })
    t.match(await b!.release({ requestId: 'req-cancelled' }), { event: 'release', requestId: 'req-cancelled', reservedDeltaMicros: -FLUX_JOB })
    t.equal(await a!.release({ requestId: 'req-cancelled' }), undefined, 'a second release is no gift')
    t.equal(await a!.settle({ requestId: 'req-cancelled', actualMicros: FLUX_JOB }), undefined, 'nor is a released job charged later')

    const completed = intent({ budgets, amountMicros: 50_000 })
    t.match(await a!.begin(completed), { outcome: 'reserved', standings: [{ remainingMicros: 0 }] }, 'the money given back is free again')
    await a!.confirm({ intent: completed, requestId: 'req-done' })
    t.match(await b!.settle({ requestId: 'req-done', actualMicros: 30_000 }), { event: 'settle', reservedDeltaMicros: -50_000, chargedDeltaMicros: 30_000 })
    t.equal(await a!.settle({ requestId: 'req-done', actualMicros: 30_000 }), undefined)
    t.equal(await a!.release({ requestId: 'req-done' }), undefined, 'a settled job is not refunded')
    t.equal(await a!.release({ requestId: 'req-never' }), undefined)
    const totals = await a!.totals({ period: 'day', key: periodKey('day', T0), subjects: ['client:key:acme', 'model:fal-ai/flux/dev', 'tier:pro', 'global'] })
    for (const subject of Object.keys(totals)) t.same(totals[subject], { reservedMicros: 0, chargedMicros: 30_000 }, subject)
    t.match(await a!.begin(intent({ budgets, amountMicros: 20_000 })), { outcome: 'reserved' }, 'the settled difference is free again')
  })

  t.test('a settle the output cannot price charges what was reserved', async t => {
    const [a, b] = await replicas(2)
    const job = intent({ amountMicros: 33_300 })
    await a!.begin(job)
    await a!.confirm({ intent: job, requestId: 'req-compute' })
    t.match(await b!.settle({ requestId: 'req-compute' }), { event: 'settle', reservedDeltaMicros: -33_300, chargedDeltaMicros: 33_300 })
    t.equal(await a!.settle({ requestId: 'req-compute', actualMicros: 1 }), undefined, 'once')
  })

  t.test('a reservation never settled expires into a charge, once; a late failure still refunds it', async t => {
    const [a, b] = await replicas(2)
    const job = intent()
    await a!.begin(job)
    await a!.confirm({ intent: job, requestId: 'req-lost' })
    t.same(await a!.sweep({ now: T0 + HOUR - 1 }), { expired: [], unconfirmed: [] }, 'not before its time')
    const swept = await Promise.all([a!.sweep({ now: T0 + HOUR }), b!.sweep({ now: T0 + HOUR })])
    const expired = swept.flatMap(result => result.expired)
    t.equal(expired.length, 1, 'charged by exactly one replica')
    t.match(expired[0], { event: 'expire', requestId: 'req-lost', reservedDeltaMicros: -FLUX_JOB, chargedDeltaMicros: FLUX_JOB })
    t.same(swept.flatMap(result => result.unconfirmed), [], 'it had been confirmed')
    const key = { period: 'day' as const, key: periodKey('day', T0), subjects: ['client:key:acme'] }
    t.same((await a!.totals(key))['client:key:acme'], { reservedMicros: 0, chargedMicros: FLUX_JOB })

    const late = intent()
    await a!.begin(late)
    await a!.confirm({ intent: late, requestId: 'req-late' })
    await a!.sweep({ now: T0 + HOUR })
    t.match(await b!.settle({ requestId: 'req-late', actualMicros: 40_000 }), { event: 'settle', reservedDeltaMicros: 0, chargedDeltaMicros: 15_000 }, 'settled after expiry: the charge becomes the output\'s price')
    const failed = intent()
    await a!.begin(failed)
    await a!.confirm({ intent: failed, requestId: 'req-failed' })
    await a!.sweep({ now: T0 + HOUR })
    t.match(await b!.release({ requestId: 'req-failed' }), { event: 'release', chargedDeltaMicros: -FLUX_JOB }, 'fal reported it failed after all: refunded')
    t.equal(await b!.release({ requestId: 'req-failed' }), undefined)
    t.same((await a!.totals(key))['client:key:acme'], { reservedMicros: 0, chargedMicros: FLUX_JOB + 40_000 })
  })

  t.test('idempotency: one key, one job; the same body replays, another body is refused; keys are scoped', async t => {
    const [a, b] = await replicas(2)
    const idempotency = { scope: `scope-${randomUUID()}`, fingerprint: 'body-1' }
    const submits = Array.from({ length: 20 }, () => intent({ idempotency }))
    const concurrent = await Promise.all(submits.map((submit, i) => (i % 2 === 0 ? a : b)!.begin(submit)))
    t.equal(concurrent.filter(begun => begun.outcome === 'reserved').length, 1, '20 concurrent submits with one key: one reservation')
    t.ok(concurrent.filter(begun => begun.outcome !== 'reserved').every(begun => begun.outcome === 'in-flight' && !begun.unknown), 'the others: 409')
    t.match(await b!.begin(intent({ idempotency: { ...idempotency, fingerprint: 'body-2' } })), { outcome: 'key-reused' })
    const totals = await a!.totals({ period: 'day', key: periodKey('day', T0), subjects: ['client:key:acme'] })
    t.equal(totals['client:key:acme']?.reservedMicros, FLUX_JOB, 'only the first reserved money')

    const winner = submits[concurrent.findIndex(begun => begun.outcome === 'reserved')]!
    await a!.confirm({ intent: winner, requestId: 'req-idem', answer: answer('req-idem'), now: T0 })
    t.match(await b!.begin(intent({ idempotency })), { outcome: 'replay', answer: { statusCode: 202, body: answer('req-idem').body } }, 'a repeat after the answer replays it')
    t.match(await b!.begin(intent({ idempotency: { ...idempotency, fingerprint: 'body-2' } })), { outcome: 'key-reused' }, 'still refused with another body')
    t.match(await a!.begin(intent({ idempotency: { scope: `scope-${randomUUID()}`, fingerprint: 'body-1' } })), { outcome: 'reserved' }, 'another scope (client, endpoint) is another key')
  })

  t.test('idempotency: a refusal before fal is not stored; fal\'s answer is', async t => {
    const [store] = await replicas(1)
    const idempotency = { scope: `scope-${randomUUID()}`, fingerprint: 'body' }
    const over = intent({ idempotency, budgets: [budget('client:day', 'client:key:acme', 1_000)] })
    t.match(await store!.begin(over), { outcome: 'refused' })
    const first = intent({ idempotency })
    t.match(await store!.begin(first), { outcome: 'reserved' }, 'the 429 left nothing behind: the same key may try again')
    await store!.abort({ reservationId: first.reservationId, now: T0 })
    const second = intent({ idempotency })
    t.match(await store!.begin(second), { outcome: 'reserved' }, 'an abort without an answer (fal busy, circuit open) forgets the key')
    const rejected = { statusCode: 400, contentType: 'application/json', body: '{"code":"UPSTREAM_REJECTED"}' }
    await store!.abort({ reservationId: second.reservationId, answer: rejected, now: T0 })
    t.match(await store!.begin(intent({ idempotency })), { outcome: 'replay', answer: rejected }, 'fal\'s refusal is the outcome, replayed')
  })

  t.test('a submit whose outcome was never learnt: charged, and its key never starts a second job', async t => {
    const [a, b] = await replicas(2)
    const idempotency = { scope: `scope-${randomUUID()}`, fingerprint: 'body' }
    const orphan = intent({ idempotency })
    await a!.begin(orphan)
    t.same(await a!.sweep({ now: T0 + 59_999 }), { expired: [], unconfirmed: [] })
    const swept = await b!.sweep({ now: T0 + 60_000 })
    t.match(swept, { expired: [{ event: 'expire', reservationId: orphan.reservationId, chargedDeltaMicros: FLUX_JOB }], unconfirmed: [{ reservationId: orphan.reservationId }] })
    t.match(await a!.begin(intent({ idempotency, at: T0 + 120_000 })), { outcome: 'in-flight', unknown: true })

    const timedOut = intent({ idempotency: { scope: `scope-${randomUUID()}`, fingerprint: 'body' } })
    await a!.begin(timedOut)
    const timeout = { statusCode: 504, contentType: 'application/json', body: '{"code":"UPSTREAM_TIMEOUT"}' }
    await a!.leaveUnresolved({ reservationId: timedOut.reservationId, answer: timeout, now: T0 })
    t.match(await b!.begin(intent({ idempotency: timedOut.idempotency })), { outcome: 'replay', answer: timeout }, 'the unknown outcome is replayed, never retried')
    t.match(await b!.sweep({ now: T0 + 60_000 }), { unconfirmed: [{ reservationId: timedOut.reservationId }] }, 'and charged as an orphan')
  })

  t.test('confirm writes again a record the store lost: owned, charged and replayable', async t => {
    const [store] = await replicas(1)
    const idempotency = { scope: `scope-${randomUUID()}`, fingerprint: 'body' }
    const lost = intent({ idempotency, clientId: 'key:lost' })
    t.same(await store!.confirm({ intent: lost, requestId: 'req-recovered', answer: answer('req-recovered'), now: T0 + 5_000 }), { recreated: true })
    t.same(await store!.confirm({ intent: lost, requestId: 'req-recovered', answer: answer('req-recovered'), now: T0 + 6_000 }), { recreated: false }, 'once')
    const totals = await store!.totals({ period: 'day', key: periodKey('day', T0), subjects: ['client:key:lost'] })
    t.same(totals['client:key:lost'], { reservedMicros: FLUX_JOB, chargedMicros: 0 })
    t.match(await store!.begin(intent({ idempotency, clientId: 'key:lost' })), { outcome: 'replay', answer: { body: answer('req-recovered').body } })
    t.match(await store!.settle({ requestId: 'req-recovered', actualMicros: FLUX_JOB, now: T0 + 7_000 }), { event: 'settle' })
    const entries = (await ledgerOf(store!)).filter(entry => entry.clientId === 'key:lost')
    t.same(entries.map(entry => entry.event), ['recover', 'settle'])
  })

  t.test('the ledger records every change; its sums are the totals', async t => {
    const [store] = await replicas(1)
    const client = `key:ledger-${randomUUID()}`
    const jobs = [intent({ clientId: client }), intent({ clientId: client, endpointId: 'fal-ai/layer-diffusion', amountMicros: 30_000 }), intent({ clientId: client })]
    for (const job of jobs) await store!.begin(job)
    await store!.confirm({ intent: jobs[0]!, requestId: 'l-1' })
    await store!.confirm({ intent: jobs[1]!, requestId: 'l-2' })
    await store!.settle({ requestId: 'l-1', actualMicros: 25_000, now: T0 + 1_000 })
    await store!.release({ requestId: 'l-2', now: T0 + 2_000 })
    await store!.abort({ reservationId: jobs[2]!.reservationId, now: T0 + 3_000 })
    const entries = (await ledgerOf(store!)).filter(entry => entry.clientId === client)
    t.same(entries.map(entry => [entry.event, entry.endpointId, entry.reservedDeltaMicros, entry.chargedDeltaMicros]), [
      ['reserve', 'fal-ai/flux/dev', 25_000, 0],
      ['reserve', 'fal-ai/layer-diffusion', 30_000, 0],
      ['reserve', 'fal-ai/flux/dev', 25_000, 0],
      ['settle', 'fal-ai/flux/dev', -25_000, 25_000],
      ['release', 'fal-ai/layer-diffusion', -30_000, 0],
      ['release', 'fal-ai/flux/dev', -25_000, 0]
    ])
    t.match(entries[3], { requestId: 'l-1', tier: 'pro' })
    const all = await store!.allTotals({ period: 'month', key: periodKey('month', T0) })
    t.same(all[`client:${client}`], { reservedMicros: 0, chargedMicros: 25_000 })
    t.same((await ledgerOf(store!, T0 + 1_500, T0 + 2_500)).map(entry => entry.requestId), ['l-2'], 'a time range selects entries by their time')
  })

  t.test('money counts in the UTC day and month of the submit, whenever it settles', async t => {
    const [store] = await replicas(1)
    const lastMinute = Date.UTC(YEAR, 4, 31, 23, 59)
    const job = intent({ at: lastMinute, clientId: 'key:night' })
    await store!.begin(job)
    await store!.confirm({ intent: job, requestId: 'req-night', now: lastMinute + 30_000 })
    await store!.settle({ requestId: 'req-night', actualMicros: 20_000, now: lastMinute + 120_000 })
    const may = await store!.totals({ period: 'month', key: `${YEAR}-05`, subjects: ['client:key:night'] })
    const june = await store!.totals({ period: 'month', key: `${YEAR}-06`, subjects: ['client:key:night'] })
    t.same(may['client:key:night'], { reservedMicros: 0, chargedMicros: 20_000 })
    t.same(june['client:key:night'], { reservedMicros: 0, chargedMicros: 0 })
  })
}
