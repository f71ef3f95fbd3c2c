import { Counter, Gauge, type Registry } from 'prom-client'
import type { LedgerEntry } from '../spend/spend-store.js'

/**
 * The money metrics (src/spend/). Each replica counts what it did; outstanding reservations across
 * replicas are `sum(fal_gateway_reserved_micro_usd_total) - sum(fal_gateway_unreserved_micro_usd_total)`.
 */
export function createSpendMetrics (registers: Registry[]) {
  let pendingConfirmations: () => number = () => 0
  const byTierAndModel = ['tier', 'model'] as const

  const spendMicros = new Counter({
    name: 'fal_gateway_spend_micro_usd_total',
    help: 'Micro-USD charged to clients (jobs settled on their output, reservations expired into charges), by tier and model',
    labelNames: byTierAndModel,
    registers
  })
  const refundedMicros = new Counter({
    name: 'fal_gateway_refunded_micro_usd_total',
    help: 'Micro-USD of charges given back (a job fal reported failed after its reservation expired, an output cheaper than its charge), by tier and model',
    labelNames: byTierAndModel,
    registers
  })
  const reservedMicros = new Counter({
    name: 'fal_gateway_reserved_micro_usd_total',
    help: 'Micro-USD reserved against budgets before submits reached fal, by tier and model',
    labelNames: byTierAndModel,
    registers
  })
  const unreservedMicros = new Counter({
    name: 'fal_gateway_unreserved_micro_usd_total',
    help: 'Micro-USD of reservations ended (released, settled or expired), by tier and model',
    labelNames: byTierAndModel,
    registers
  })
  const reservationEvents = new Counter({
    name: 'fal_gateway_reservation_events_total',
    help: 'Reservation changes by event (reserve, recover, release, settle, expire), tier and model',
    labelNames: ['event', 'tier', 'model'] as const,
    registers
  })

  return {
    budgetRefusals: new Counter({
      name: 'fal_gateway_budget_refusals_total',
      help: 'Submits refused with BUDGET_EXCEEDED, by the budget that refused them (client:day, tier:month, global:day…)',
      labelNames: ['budget'] as const,
      registers
    }),
    submitRecoveries: new Counter({
      name: 'fal_gateway_submit_recoveries_total',
      help: 'Write-ahead recoveries: confirmed_late (fal accepted a job while the store was away; owned and charged once it returned), charged_unconfirmed (a record never confirmed, charged)',
      labelNames: ['outcome'] as const,
      registers
    }),
    pendingConfirmations: new Gauge({
      name: 'fal_gateway_pending_confirmations',
      help: 'Jobs fal accepted that this node could not record yet (the store was away); written when it returns',
      registers,
      collect () { this.set(pendingConfirmations()) }
    }),
    spendMicros,
    refundedMicros,
    reservedMicros,
    unreservedMicros,
    reservationEvents,
    /** One line of the usage ledger, into the money counters. */
    countLedgerEntry ({ event, tier, endpointId, reservedDeltaMicros, chargedDeltaMicros }: LedgerEntry): void {
      const labels = { tier, model: endpointId }
      reservationEvents.inc({ event, ...labels })
      if (reservedDeltaMicros > 0) reservedMicros.inc(labels, reservedDeltaMicros)
      if (reservedDeltaMicros < 0) unreservedMicros.inc(labels, -reservedDeltaMicros)
      if (chargedDeltaMicros > 0) spendMicros.inc(labels, chargedDeltaMicros)
      if (chargedDeltaMicros < 0) refundedMicros.inc(labels, -chargedDeltaMicros)
    },
    /** Where the pending-confirmations gauge reads its value at scrape time. */
    countPendingConfirmationsWith (count: () => number): void {
      pendingConfirmations = count
    }
  }
}

export type SpendMetrics = ReturnType<typeof createSpendMetrics>
