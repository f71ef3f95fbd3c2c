import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import { gatewayPolicy } from '../../identity/gateway-policy.js'
import { createBilledAmount } from '../../spend/billing-events.js'
import { createBudgetsFor, type BudgetsFor } from '../../spend/budget-limits.js'
import { createMemorySpendStore } from '../../spend/memory-spend-store.js'
import { meteredSpendStore } from '../../spend/metered-spend-store.js'
import type { FallbackUnits } from '../../spend/price-units.js'
import { createRedisSpendStore } from '../../spend/redis-spend-store.js'
import type { SpendStore, SpendStoreOptions } from '../../spend/spend-store.js'
import { ConfirmationJournal, recoverSubmits, type RecoveryReport, type WriteAheadDependencies } from '../../spend/write-ahead.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Money: prices, budgets, reservations, idempotency keys, the usage ledger (src/spend/). */
    spend: Spend
  }
}

export interface Spend {
  store: SpendStore
  budgetsFor: BudgetsFor
  fallbackUnits: FallbackUnits
  /** What confirmSubmit and recoverSubmits need; ownership is written through the limit store. */
  writeAhead: WriteAheadDependencies
  /** One run of the recovery path (also run every RESERVATION_SWEEP_INTERVAL_MS). */
  recover: () => Promise<RecoveryReport>
  /**
   * A completed job is charged: fal's billed amount when FAL_ADMIN_KEY is set and fal has a billing
   * event for it, else what the output says it produced (`estimatedMicros`), else its reservation.
   */
  settleCompleted: (input: { requestId: string, estimatedMicros: number | undefined }) => Promise<void>
  /** A job was journaled: its owner is written as soon as the store answers, not at the next sweep. */
  recoverSoon: () => void
}

/** How often journaled jobs are tried again while the store is away: an owner missing costs the client a 404. */
const JOURNAL_RETRY_MS = 200

/** Past the submit's own deadline, a record still unconfirmed can only be an orphan. */
const UNCONFIRMED_MARGIN_MS = 5_000

/**
 * The spend store (Redis when REDIS_URL is set, else this node's memory), metered, and the
 * recovery loop that writes journaled confirmations and charges expired reservations on every
 * replica. Budgets never fall back to a node's memory: while Redis is away, money is not admitted
 * (STORE_UNAVAILABLE), whatever REDIS_FAIL_MODE says, since N replicas would each allow the budget.
 */
export default fp<{ config: Config }>(async function spend (fastify, { config }) {
  const settings = config.spend
  const options: SpendStoreOptions = {
    reservationExpiryMs: settings.reservationExpiryMs,
    unconfirmedAfterMs: config.upstreamTimeouts.submit + UNCONFIRMED_MARGIN_MS,
    idempotencyTtlMs: settings.idempotencyTtlMs,
    retentionMs: settings.retentionMs
  }
  const raw = fastify.redis === undefined
    ? createMemorySpendStore(options)
    : createRedisSpendStore({ ...options, client: fastify.redis, replicaAcks: config.redis?.replicaAcks })
  const store = meteredSpendStore(raw, fastify.metrics.spend)
  const journal = new ConfirmationJournal()
  fastify.metrics.spend.countPendingConfirmationsWith(() => journal.size)
  const log = fastify.log.child({ component: 'spend' })
  const writeAhead: WriteAheadDependencies = {
    store,
    journal,
    writeOwnership: async ({ intent, requestId, finished }) => {
      await fastify.limitStore.confirmJob({
        clientId: intent.clientId,
        reservationId: intent.reservationId,
        requestId: requestId.toLowerCase(),
        ownershipTtlMs: config.ownershipTtlMs,
        jobTtlMs: config.jobTtlMs
      })
      if (finished === true) await fastify.limitStore.releaseJob({ requestId: requestId.toLowerCase() })
    },
    log,
    onRecovery: (outcome) => { fastify.metrics.spend.submitRecoveries.inc({ outcome }) }
  }

  let running: Promise<unknown> | undefined
  let closing = false
  const recover = async (): Promise<RecoveryReport> => await recoverSubmits(writeAhead)
  const runRecovery = (): void => {
    if (running !== undefined || closing) return
    running = recover()
      .catch((error: unknown) => { log.warn({ err: error }, 'spend recovery could not run: the store is unreachable') })
      .finally(() => { running = undefined })
  }
  const timer = setInterval(runRecovery, settings.sweepIntervalMs)
  timer.unref()
  let retry: NodeJS.Timeout | undefined
  const recoverSoon = (): void => {
    if (retry !== undefined || closing) return
    retry = setTimeout(() => {
      retry = undefined
      runRecovery()
      // Until the journal is empty: the store may still be away.
      running?.then(() => { if (journal.size > 0) recoverSoon() }).catch(() => {})
    }, JOURNAL_RETRY_MS)
    retry.unref()
  }

  const billing = settings.billing
  const billedAmount = billing === undefined ? undefined : createBilledAmount({ ...billing, timeoutMs: config.upstreamTimeouts.status })
  const settleCompleted: Spend['settleCompleted'] = async ({ requestId, estimatedMicros }) => {
    const billed = await billedAmount?.(requestId).catch((error: unknown) => {
      log.warn({ err: error, requestId }, 'fal\'s billing events could not be read: the job is charged the gateway\'s figure')
      return undefined
    })
    if (billed !== undefined) log.info({ requestId, billedMicros: billed, estimatedMicros }, 'completed job charged what fal billed')
    await store.settle({ requestId, actualMicros: billed ?? estimatedMicros })
  }

  fastify.decorate('spend', {
    store,
    budgetsFor: createBudgetsFor(gatewayPolicy(config)),
    fallbackUnits: settings.fallbackUnits,
    writeAhead,
    recover,
    settleCompleted,
    recoverSoon
  })
  fastify.addHook('onClose', async () => {
    closing = true
    clearInterval(timer)
    clearTimeout(retry)
    await running
    await store.close()
  })
}, { name: 'spend', dependencies: ['redis', 'limit-store', 'metrics'] })
