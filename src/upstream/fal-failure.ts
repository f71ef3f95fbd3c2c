import type { Departure } from './departure.js'

/**
 * How a call to fal went wrong. This is the upstream layer's own vocabulary, kept here and not
 * among the gateway's answers (errors/gateway-errors.ts): this layer knows nothing of clients or
 * HTTP answers, and the breakers and retries decide on these outcomes before any answer exists.
 * The error handler turns a FalFailure into the client's answer, once (errors/from-upstream.ts).
 */
export type FalOutcome =
  /** fal answered with an error status (4xx, 5xx). */
  | { kind: 'answered', status: number, retryAfterSeconds?: number }
  /** fal answered with a redirect: never followed, since it would carry the client's input elsewhere. */
  | { kind: 'redirected', status: number }
  | { kind: 'timeout' }
  | { kind: 'unreachable' }
  /** fal answered a success the gateway cannot read (not JSON, or not the shape it must have). */
  | { kind: 'malformed' }
  /** The operation's circuit breaker is open: fal was not called at all. */
  | { kind: 'circuit-open', retryAfterSeconds: number }

export interface FalFailureDetails {
  /** fal's answer body, parsed when it is JSON (its `detail`), already scrubbed of credentials. */
  body?: unknown
  /** A capped excerpt of what fal sent, scrubbed of credentials: what the logs may show of it. */
  excerpt?: string
  /** What a transport threw. */
  reason?: unknown
}

function messageOf (outcome: FalOutcome): string {
  switch (outcome.kind) {
    case 'answered': return `fal answered ${outcome.status}`
    case 'redirected': return `fal answered ${outcome.status}, a redirect, which is never followed`
    case 'timeout': return 'fal did not answer in time'
    case 'unreachable': return 'fal could not be reached'
    case 'malformed': return 'fal answered with a body the gateway cannot read'
    case 'circuit-open': return 'fal is failing: calls are paused'
  }
}

/**
 * One failed call. Its body is kept out of enumeration (so out of the logs' error serializer);
 * only `excerpt` is logged. The network error is kept as `reason`, deliberately not as `cause`:
 * `@fal-ai/client` walks `cause` chains to decide whether to retry, and a submit must never be
 * sent twice. Messages never name the upstream host, and nothing here carries the key.
 */
export class FalFailure extends Error {
  override name = 'FalFailure'
  readonly excerpt: string | undefined
  readonly reason: unknown
  readonly #body: unknown

  constructor (readonly outcome: FalOutcome, details: FalFailureDetails = {}) {
    super(messageOf(outcome))
    this.excerpt = details.excerpt
    this.reason = details.reason
    this.#body = details.body
  }

  get body (): unknown {
    return this.#body
  }
}

/** Turns whatever a transport threw into a FalFailure; the caller's own abort reason passes through. */
export function failureOfThrown (error: unknown, signal?: Pick<Departure, 'aborted' | 'reason'>): unknown {
  if (error instanceof FalFailure) return error
  if (signal?.aborted === true && !isTimeout(signal.reason)) return signal.reason
  if (isTimeout(error) || isTimeout(signal?.reason)) return new FalFailure({ kind: 'timeout' }, { reason: error })
  return new FalFailure({ kind: 'unreachable' }, { reason: error })
}

/** A deadline or a stalled answer; a connection that could not be made is unreachable, not slow. */
export function isTimeout (error: unknown): boolean {
  if (!(error instanceof Error)) return false
  const code = (error as { code?: unknown }).code
  return error.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT'
}

export function parseRetryAfter (value: string | string[] | null | undefined): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value
  if (raw === undefined || raw === null || raw === '') return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds)
  const date = Date.parse(raw)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, Math.ceil((date - Date.now()) / 1000))
}
