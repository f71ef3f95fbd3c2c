/**
 * Failures of a call to fal, typed so the gateway can answer each with its own status.
 *
 * The network error that caused a failure is kept as `reason`, deliberately not as `cause`:
 * `@fal-ai/client` walks `cause` chains to decide whether to retry, and a submit must never be
 * sent twice. These errors never carry the key, and their messages never name the upstream host.
 */
export abstract class UpstreamError extends Error {
  abstract readonly kind: 'http' | 'timeout' | 'unreachable' | 'malformed' | 'circuit-open'
  constructor (message: string, readonly reason?: unknown) {
    super(message)
    this.name = new.target.name
  }
}

/** fal answered with a status the caller must handle (anything that is not 2xx). */
export class UpstreamHttpError extends UpstreamError {
  readonly kind = 'http'
  constructor (
    readonly status: number,
    readonly body: unknown,
    readonly retryAfterSeconds: number | undefined
  ) {
    super(`fal answered ${status}`)
  }
}

export class UpstreamTimeoutError extends UpstreamError {
  readonly kind = 'timeout'
  constructor (reason?: unknown) {
    super('fal did not answer in time', reason)
  }
}

export class UpstreamUnreachableError extends UpstreamError {
  readonly kind = 'unreachable'
  constructor (reason?: unknown) {
    super('fal could not be reached', reason)
  }
}

export class UpstreamMalformedError extends UpstreamError {
  readonly kind = 'malformed'
  constructor (reason?: unknown) {
    super('fal answered with a body that is not valid JSON', reason)
  }
}

/** The operation's circuit breaker is open: fal was not called at all. */
export class UpstreamCircuitOpenError extends UpstreamError {
  readonly kind = 'circuit-open'
  constructor (readonly retryAfterSeconds: number) {
    super('fal is failing: calls are paused')
  }
}

/** Turns whatever a transport threw into an UpstreamError; aborts by our own client pass through. */
export function toUpstreamError (error: unknown, signal?: AbortSignal): unknown {
  if (error instanceof UpstreamError) return error
  if (signal?.aborted === true && !isTimeout(signal.reason)) return signal.reason
  if (isTimeout(error) || isTimeout(signal?.reason)) return new UpstreamTimeoutError(error)
  return new UpstreamUnreachableError(error)
}

/** A deadline or a stalled answer; a connection that could not be made is unreachable, not slow. */
export function isTimeout (error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT' || (error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT')
}

/**
 * fal's answer that was not a success, as the error the gateway handles: its body kept when it
 * is JSON (fal's `detail`), its Retry-After when it sent one.
 */
export function httpErrorOf (status: number, text: string, retryAfter: string | string[] | null | undefined): UpstreamHttpError {
  return new UpstreamHttpError(status, parseJsonOrUndefined(text), parseRetryAfter(retryAfter))
}

export function parseJsonOrUndefined (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
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
