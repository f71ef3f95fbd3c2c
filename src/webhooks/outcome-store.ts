/** How a job ended, as fal's verified webhook told it. */
export interface JobOutcome {
  /** fal's request id, lower-cased. */
  requestId: string
  status: 'OK' | 'ERROR'
  /** fal's `error` on an ERROR outcome. */
  error?: string
  /**
   * fal's delivery body exactly as received (JSON text: `{ request_id, status, payload, ... }`),
   * when it fits the completed-result cache bounds; without it, only the status is known and the
   * result must be read from fal once.
   */
  body?: string
  /** Epoch ms the gateway accepted it. */
  receivedAt: number
}

/** recorded: the first outcome of the job; known: the job already had one (nothing changed); replayed: this exact delivery was seen before. */
export type RecordVerdict = 'recorded' | 'known' | 'replayed'

/**
 * One outcome per job, shared by every replica using the same store, and announced to all of them
 * the moment it is recorded. Methods reject with StoreUnavailable when the store cannot answer.
 */
export interface OutcomeStore {
  /**
   * One atomic decision: refuse a delivery whose (request id, timestamp) was seen in the last
   * `replayWindowMs`, else keep the job's first outcome and announce it.
   */
  record (outcome: JobOutcome, delivery: { timestamp: string, replayWindowMs: number }): Promise<RecordVerdict>
  get (requestId: string): Promise<JobOutcome | undefined>
  /**
   * Resolves with the job's outcome as soon as one is known here or on any replica (at once when
   * it already is); rejects with the signal's reason when it aborts first.
   */
  wait (requestId: string, signal: AbortSignal): Promise<JobOutcome>
  close (): Promise<void>
}

/** fal's `payload` of a stored outcome, or undefined when only the status was kept. */
export function payloadOf (outcome: JobOutcome): unknown {
  if (outcome.body === undefined) return undefined
  return (JSON.parse(outcome.body) as { payload?: unknown }).payload
}

/** The outcome without its body: what is announced, and what is kept when the body is too large. */
export function withoutBody ({ body: _body, ...rest }: JobOutcome): JobOutcome {
  return rest
}
