import t from 'tap'
import { createMemorySpendStore } from '../../src/spend/memory-spend-store.js'
import { SUITE_OPTIONS, T0, intent, spendStoreSuite } from './spend-store-suite.js'

// One node: every "replica" is the same store.
spendStoreSuite(t, async (count) => {
  const store = createMemorySpendStore(SUITE_OPTIONS)
  return Array.from({ length: count }, () => store)
})

t.test('an Idempotency-Key is forgotten after IDEMPOTENCY_TTL_MS', async t => {
  const store = createMemorySpendStore({ ...SUITE_OPTIONS, idempotencyTtlMs: 60_000 })
  const idempotency = { scope: 'scope-ttl', fingerprint: 'body' }
  const first = intent({ idempotency })
  await store.begin(first)
  await store.confirm({ intent: first, requestId: 'req-ttl', answer: { statusCode: 202, contentType: 'application/json', body: '{}' }, now: T0 })
  t.match(await store.begin(intent({ idempotency, at: T0 + 59_999 })), { outcome: 'replay' })
  t.match(await store.begin(intent({ idempotency, at: T0 + 60_000 })), { outcome: 'reserved' })
})
