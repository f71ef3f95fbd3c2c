/** Where a client asked for its job's outcome to be sent (its own `fal_webhook`). */
export interface DeliveryTarget {
  requestId: string
  clientId: string
  url: string
}

/** One outcome on its way to a client's webhook. Its id is the job's request id: one delivery per job. */
export interface ClientDelivery extends DeliveryTarget {
  id: string
  /** fal's delivery body as the gateway received and verified it. */
  body: string
  attempts: number
  lastError?: string
  createdAt: number
  /** When it was given up (dead letters only). */
  failedAt?: number
}

/**
 * Deliveries owed to clients, at least once: a claimed delivery is leased, not removed, so one
 * whose replica dies mid-attempt is due again when the lease ends. In Redis (durable across
 * restarts, shared by replicas) or in memory. Methods reject when the store cannot answer.
 */
export interface DeliveryQueue {
  /** At submit: remember where the outcome of `requestId` goes, for `ttlMs`. */
  expect (target: DeliveryTarget, ttlMs: number): Promise<void>
  /** The outcome arrived: queue its delivery if one was expected. Idempotent; true when queued now. */
  handOver (requestId: string, body: string, now?: number): Promise<boolean>
  /** Up to `max` deliveries due by `now`, each leased until `now + leaseMs`. */
  claim (now: number, leaseMs: number, max: number): Promise<ClientDelivery[]>
  succeeded (id: string): Promise<void>
  /** A failed attempt: due again at `retryAt`, or a dead letter when undefined. */
  failed (delivery: ClientDelivery, retryAt: number | undefined, now?: number): Promise<void>
  /** Newest first. */
  deadLetters (limit: number): Promise<ClientDelivery[]>
  /** A dead letter back in the queue, due now, its attempts counted afresh; false when there is none. */
  replay (id: string, now?: number): Promise<boolean>
}

/** Dead letters kept before the oldest are dropped. */
export const MAX_DEAD_LETTERS = 10_000
