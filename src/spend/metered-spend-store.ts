import type { SpendMetrics } from '../metrics/spend-metrics.js'
import type { LedgerEntry, SpendStore } from './spend-store.js'

/** The store, with every change of money it makes counted into the Prometheus metrics. */
export function meteredSpendStore (store: SpendStore, metrics: SpendMetrics): SpendStore {
  const counted = (entry: LedgerEntry | undefined): LedgerEntry | undefined => {
    if (entry !== undefined) metrics.countLedgerEntry(entry)
    return entry
  }
  const line = (event: LedgerEntry['event'], intent: Parameters<SpendStore['begin']>[0]): LedgerEntry => ({
    at: intent.at,
    event,
    reservationId: intent.reservationId,
    clientId: intent.clientId,
    tier: intent.tier,
    endpointId: intent.endpointId,
    reservedDeltaMicros: intent.amountMicros,
    chargedDeltaMicros: 0
  })
  return {
    async begin (intent) {
      const outcome = await store.begin(intent)
      if (outcome.outcome === 'reserved') metrics.countLedgerEntry(line('reserve', intent))
      if (outcome.outcome === 'refused') metrics.budgetRefusals.inc({ budget: outcome.standing.budget.name })
      return outcome
    },
    async confirm (input) {
      const result = await store.confirm(input)
      if (result.recreated) metrics.countLedgerEntry(line('recover', input.intent))
      return result
    },
    abort: async (input) => counted(await store.abort(input)),
    leaveUnresolved: async (input) => { await store.leaveUnresolved(input) },
    release: async (input) => counted(await store.release(input)),
    settle: async (input) => counted(await store.settle(input)),
    async sweep (input) {
      const result = await store.sweep(input)
      for (const entry of result.expired) metrics.countLedgerEntry(entry)
      return result
    },
    totals: async (input) => await store.totals(input),
    allTotals: async (input) => await store.allTotals(input),
    ledger: (input) => store.ledger(input),
    close: async () => { await store.close() }
  }
}
