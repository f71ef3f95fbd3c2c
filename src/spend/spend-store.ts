import type { BudgetLimit } from './budget-limits.js'
import type { Period } from './utc-periods.js'

/** Where one budget stands after a decision. */
export interface BudgetStanding {
  budget: BudgetLimit
  /** Reserved and charged in the budget's period; includes the submit when it was admitted. */
  usedMicros: number
  /** What is left of the limit, never below 0. */
  remainingMicros: number
  /** Epoch ms at which the period ends and the budget starts afresh (UTC). */
  resetAt: number
}

/** The answer given to the first submit with an Idempotency-Key, replayed to its repeats. */
export interface StoredAnswer {
  statusCode: number
  contentType: string
  body: string
}

/**
 * The write-ahead record of a submit, written in one atomic step before the call to fal:
 * ownership intent (who), the reservation (how much, against which budgets) and the
 * idempotency record (which key, which body).
 */
export interface SubmitIntent {
  /** Chosen by the gateway before the call (a random UUID); names the record until fal's id is known. */
  reservationId: string
  clientId: string
  tier: string
  /** The catalog endpoint: the ledger and the metrics count spend per model. */
  endpointId: string
  amountMicros: number
  /** Every budget that applies (createBudgetsFor); the reservation must fit all of them. */
  budgets: BudgetLimit[]
  /** When the client sent an Idempotency-Key: its scope (idempotencyScope) and the body's fingerprint. */
  idempotency?: { scope: string, fingerprint: string }
  /** Epoch ms of the submit: the UTC day and month the money counts in. */
  at: number
}

export type BeginOutcome =
  /** Money reserved, record written: call fal. */
  | { outcome: 'reserved', standings: BudgetStanding[] }
  /** A budget would be exceeded: nothing written, fal must receive nothing. */
  | { outcome: 'refused', standing: BudgetStanding, standings: BudgetStanding[] }
  /** The key's first submit has an answer: send it again, start nothing. */
  | { outcome: 'replay', answer: StoredAnswer }
  /** The key's first submit is still on its way to fal, or its outcome was never learnt: 409. */
  | { outcome: 'in-flight', unknown: boolean }
  /** The key was used with another body: 422. */
  | { outcome: 'key-reused' }

export type LedgerEvent =
  | 'reserve'
  /** A job fal accepted whose write-ahead record the store had lost: reserved again on confirm. */
  | 'recover'
  | 'release'
  | 'settle'
  | 'expire'

/** One line of the usage ledger: every change to what a client has reserved or been charged. */
export interface LedgerEntry {
  at: number
  event: LedgerEvent
  reservationId: string
  requestId?: string
  clientId: string
  tier: string
  endpointId: string
  reservedDeltaMicros: number
  chargedDeltaMicros: number
}

export interface UsageTotals {
  reservedMicros: number
  chargedMicros: number
}

export interface SweepResult {
  /** Reservations charged because their time ran out. */
  expired: LedgerEntry[]
  /**
   * Those of them never confirmed with fal's request id (the gateway died or lost the store
   * between the write-ahead record and the confirmation): charged, their idempotency keys
   * answering 409 for good, so a repeat never starts a second job.
   */
  unconfirmed: LedgerEntry[]
}

/**
 * Money, idempotency and write-ahead records, shared by every replica using the same store.
 * Every method is one atomic step on the store, safe to repeat (a release or a settle applied
 * twice changes nothing the second time), and rejects with StoreUnavailable (never hangs)
 * when the store cannot answer. Amounts are integers of micro-USD.
 *
 * A submit's life: begin → (fal accepts) confirm → release | settle, or expiry into a charge;
 * begin → (fal refuses) abort; begin → (fal's answer lost) leaveUnresolved → expiry.
 */
export interface SpendStore {
  begin (intent: SubmitIntent): Promise<BeginOutcome>
  /**
   * fal accepted the job: binds its request id to the record and completes the idempotency
   * record with the answer. Recreates a record the store lost (reserved again without a budget
   * check: the money is spent), which is what the recovery path relies on.
   */
  confirm (input: { intent: SubmitIntent, requestId: string, answer?: StoredAnswer, now?: number }): Promise<{ recreated: boolean }>
  /** fal did not take the job: the money goes back; the key keeps `answer` if given, else is forgotten. */
  abort (input: { reservationId: string, answer?: StoredAnswer, now?: number }): Promise<LedgerEntry | undefined>
  /** Whether fal took the job is unknown: the money stays reserved until it expires into a charge. */
  leaveUnresolved (input: { reservationId: string, answer?: StoredAnswer, now?: number }): Promise<void>
  /** A cancel before the job started, or a job that ended in error (fal bills only successes). */
  release (input: { requestId: string, now?: number }): Promise<LedgerEntry | undefined>
  /**
   * The job completed: the charge becomes the price of what it produced, or, when the output
   * cannot say (`actualMicros` undefined), the amount reserved for it.
   */
  settle (input: { requestId: string, actualMicros?: number, now?: number }): Promise<LedgerEntry | undefined>
  /** Charges reservations whose time ran out; any replica may run it, each record is charged once. */
  sweep (input?: { now?: number, limit?: number }): Promise<SweepResult>
  /** Reserved and charged by these subjects (`client:<id>`, `tier:<t>`, `model:<id>`, `global`) in one period. */
  totals (input: { period: Period, key: string, subjects: string[] }): Promise<Record<string, UsageTotals>>
  /** Every subject's totals in one period, for the operator. */
  allTotals (input: { period: Period, key: string }): Promise<Record<string, UsageTotals>>
  /** Ledger entries with `from <= at < to`, oldest first, in pages. */
  ledger (input: { from: number, to: number }): AsyncIterable<LedgerEntry[]>
  close (): Promise<void>
}

export interface SpendStoreOptions {
  /** A reservation neither settled nor released after this is charged (RESERVATION_EXPIRY_MS). */
  reservationExpiryMs: number
  /** A record still unconfirmed after this (the submit's deadline and a margin) is an orphan. */
  unconfirmedAfterMs: number
  /** How long an Idempotency-Key is remembered (IDEMPOTENCY_TTL_MS). */
  idempotencyTtlMs: number
  /** How long the ledger and the per-period totals are kept (USAGE_RETENTION_DAYS). */
  retentionMs: number
}

/** The counters a submit adds to: its client, tier, model and the whole account. */
export function counterSubjects (intent: Pick<SubmitIntent, 'clientId' | 'tier' | 'endpointId'>): string[] {
  return ['global', `tier:${intent.tier}`, `client:${intent.clientId}`, `model:${intent.endpointId}`]
}
