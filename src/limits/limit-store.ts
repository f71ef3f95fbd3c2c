export interface ReserveJobInput {
  clientId: string
  /** Caller-chosen unique id for this submit attempt (e.g. a random UUID). */
  reservationId: string
  maxInFlight: number
  dailyQuota: number
  /** How long the reservation holds a slot if it is never confirmed or cancelled. */
  ttlMs: number
  /** Epoch ms; defaults to Date.now(). */
  now?: number
}

export type LimitRefusal = 'CONCURRENCY_LIMIT' | 'QUOTA_EXCEEDED'

export type ReserveJobResult =
  // The counts including this reservation.
  | { ok: true, inFlight: number, quotaUsed: number }
  // `inFlight` and `quotaUsed` are the counts as they stood; `retryAfterMs` is when the earliest
  // slot expires at the latest (jobs usually finish sooner) or the next UTC midnight.
  | { ok: false, reason: LimitRefusal, retryAfterMs: number, inFlight: number, quotaUsed: number }

export interface ConfirmJobInput {
  clientId: string
  reservationId: string
  /** fal's request id. */
  requestId: string
  /** How long the client may reach the request (status, result, cancel). */
  ownershipTtlMs: number
  /** Safety net: the job stops counting as in flight after this even if no one releases it. */
  jobTtlMs: number
  now?: number
}

export interface CancelReservationInput {
  clientId: string
  reservationId: string
  /** A refused or failed submit costs the client nothing; a lapsed reservation is not refunded. */
  refundQuota: boolean
  now?: number
}

/**
 * Jobs in flight, daily submit quotas and request ownership, shared by every replica that uses
 * the same store. Each operation is atomic; every method rejects with StoreUnavailable
 * (never hangs) when the store cannot answer.
 *
 * A submit's life: reserveJob → (fal accepts) confirmJob → … → releaseJob when fal reports it done,
 * or reserveJob → (fal refuses / the call fails) cancelReservation.
 */
export interface LimitStore {
  reserveJob (input: ReserveJobInput): Promise<ReserveJobResult>
  /** Swaps the reservation for the request id and records who owns it. */
  confirmJob (input: ConfirmJobInput): Promise<void>
  /** Idempotent: a second cancel neither frees nor refunds twice. */
  cancelReservation (input: CancelReservationInput): Promise<void>
  /** Idempotent; ownership is kept so the owner can still fetch the result. */
  releaseJob (input: { requestId: string }): Promise<void>
  ownerOf (requestId: string): Promise<string | undefined>
  close (): Promise<void>
}
