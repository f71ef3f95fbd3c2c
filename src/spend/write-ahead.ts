import type { SpendStore, StoredAnswer, SubmitIntent } from './spend-store.js'

/** What must be written once fal has accepted a job: its record confirmed, and its owner. */
export interface AcceptedSubmit {
  intent: SubmitIntent
  /** fal's request id. */
  requestId: string
  /** The answer the client got, kept for repeats of its Idempotency-Key. */
  answer?: StoredAnswer
  /** Seen ended while its confirmation waited in the journal (see ConfirmationJournal.markFinished). */
  finished?: boolean
}

/**
 * Writes the owner of an accepted job (the limit store's confirmJob), and gives back its job slot when
 * it has already `finished`; must be safe to repeat.
 */
export type WriteOwnership = (accepted: AcceptedSubmit) => Promise<void>

export interface RecoveryLog {
  info (object: object, message: string): void
  warn (object: object, message: string): void
  error (object: object, message: string): void
}

export type RecoveryOutcome =
  /** A job fal accepted while the store was away: owned and reserved now that it is back. */
  | 'confirmed_late'
  /** A record never confirmed (the gateway died or lost its journal): charged by the sweep. */
  | 'charged_unconfirmed'

/** Accepted jobs this node could not write yet; forgotten by nothing but a successful write. */
export class ConfirmationJournal {
  readonly #pending = new Map<string, AcceptedSubmit>()

  add (accepted: AcceptedSubmit): void {
    this.#pending.set(accepted.intent.reservationId, accepted)
  }

  get size (): number {
    return this.#pending.size
  }

  entries (): AcceptedSubmit[] {
    return [...this.#pending.values()]
  }

  delete (accepted: AcceptedSubmit): void {
    this.#pending.delete(accepted.intent.reservationId)
  }

  /**
   * The job ended before the store came back (REDIS_FAIL_MODE=open lets both happen in one outage):
   * its late confirmation must not leave it a job slot, since its end was seen, and its slot given
   * back, once already.
   */
  markFinished (requestId: string): void {
    for (const accepted of this.#pending.values()) {
      if (accepted.requestId.toLowerCase() === requestId) accepted.finished = true
    }
  }
}

export interface WriteAheadDependencies {
  store: SpendStore
  journal: ConfirmationJournal
  writeOwnership: WriteOwnership
  log: RecoveryLog
  /** Counts each recovery, e.g. into fal_gateway_submit_recoveries_total. */
  onRecovery?: (outcome: RecoveryOutcome) => void
}

/**
 * The second step of a write-ahead submit, after fal accepted the job: confirm its record (request
 * id, idempotency answer) and write its owner. When the store fails here the job is journaled on
 * this node, the client still gets its request id, and `recoverSubmits` writes both once the store
 * answers again: a paid job is never left unowned.
 */
export async function confirmSubmit (deps: WriteAheadDependencies, accepted: AcceptedSubmit): Promise<'confirmed' | 'journaled'> {
  try {
    await writeConfirmation(deps, accepted)
    return 'confirmed'
  } catch (error) {
    deps.journal.add(accepted)
    deps.log.warn({ err: error, requestId: accepted.requestId, clientId: accepted.intent.clientId },
      'fal accepted a job but the store could not record it: kept on this node until the store returns')
    return 'journaled'
  }
}

export interface RecoveryReport {
  /** Journaled jobs written now. */
  confirmed: number
  /** Journaled jobs still waiting for the store. */
  pending: number
  /** Reservations charged by expiry, the unconfirmed ones included. */
  expired: number
  unconfirmed: number
}

/**
 * The recovery path, run periodically on every replica: writes the journaled confirmations (the
 * store lost, or never got, what fal had accepted: it is owned and charged again, logged, counted),
 * then sweeps the store, charging reservations whose time ran out and records that were never
 * confirmed (logged as errors: a job fal may have run with no owner on record).
 */
export async function recoverSubmits (deps: WriteAheadDependencies, now = Date.now()): Promise<RecoveryReport> {
  let confirmed = 0
  for (const accepted of deps.journal.entries()) {
    try {
      const { recreated } = await writeConfirmation(deps, accepted, now)
      deps.journal.delete(accepted)
      confirmed++
      deps.onRecovery?.('confirmed_late')
      deps.log.warn({ requestId: accepted.requestId, clientId: accepted.intent.clientId, endpointId: accepted.intent.endpointId, amountMicros: accepted.intent.amountMicros, recreated },
        recreated ? 'store returned without the job\'s record: owned and reserved again' : 'store returned: job confirmed and owned')
    } catch {
      // Still away: the rest would fail the same way; try again on the next run.
      return { confirmed, pending: deps.journal.size, expired: 0, unconfirmed: 0 }
    }
  }
  const swept = await deps.store.sweep({ now })
  for (const entry of swept.unconfirmed) {
    deps.onRecovery?.('charged_unconfirmed')
    deps.log.error({ reservationId: entry.reservationId, clientId: entry.clientId, endpointId: entry.endpointId, chargedMicros: entry.chargedDeltaMicros },
      'a submit was never confirmed with fal\'s request id (the gateway stopped between the two steps): charged')
  }
  const expiredConfirmed = swept.expired.length - swept.unconfirmed.length
  if (expiredConfirmed > 0) deps.log.info({ count: expiredConfirmed }, 'reservations never settled expired into charges')
  return { confirmed, pending: deps.journal.size, expired: swept.expired.length, unconfirmed: swept.unconfirmed.length }
}

async function writeConfirmation ({ store, writeOwnership }: WriteAheadDependencies, accepted: AcceptedSubmit, now?: number): Promise<{ recreated: boolean }> {
  const result = await store.confirm({ ...accepted, ...(now === undefined ? {} : { now }) })
  await writeOwnership(accepted)
  return result
}
