import { setTimeout as sleep } from 'node:timers/promises'
import type { Deadline } from './deadline.js'
import { FalFailure, failureOfThrown } from './fal-failure.js'

export interface RetryOptions {
  /** Attempts after the first. */
  retries: number
  /** First backoff; doubled on each attempt, then jittered. */
  baseDelayMs: number
  /** Cap on one backoff, and on a `Retry-After` the gateway is willing to wait for. */
  maxDelayMs: number
}

const RETRIED_STATUSES = new Set([429, 502, 503, 504])

/** Failures a second attempt of an idempotent read may get past; a timeout has used the deadline up. */
export function isRetryable (error: unknown): boolean {
  if (!(error instanceof FalFailure)) return false
  if (error.outcome.kind === 'answered') return RETRIED_STATUSES.has(error.outcome.status)
  return error.outcome.kind === 'unreachable'
}

/**
 * How long to wait before attempt `retry` (0-based), or undefined to give up now: fal asked for
 * longer than the cap, so the client is better told its `Retry-After` at once.
 * Equal jitter keeps replicas that failed together from retrying together.
 */
export function backoffMs (retry: number, options: RetryOptions, retryAfterSeconds?: number, random = Math.random): number | undefined {
  const exponential = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** retry)
  const jittered = exponential / 2 + random() * exponential / 2
  if (retryAfterSeconds === undefined) return jittered
  const asked = retryAfterSeconds * 1000
  return asked > options.maxDelayMs ? undefined : Math.max(asked, jittered)
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the next wait would not end before
 * `deadlineAt`; then the last failure is thrown as it is. Only for calls that are safe to repeat.
 */
export async function withRetries<T> (attempt: () => Promise<T>, options: RetryOptions, deadlineAt: number, signal: Deadline | AbortSignal): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt()
    } catch (error) {
      if (retry >= options.retries || !isRetryable(error) || signal.aborted) throw error
      const delay = backoffMs(retry, options, error instanceof FalFailure && error.outcome.kind === 'answered' ? error.outcome.retryAfterSeconds : undefined)
      if (delay === undefined || Date.now() + delay >= deadlineAt) throw error
      try {
        await sleep(delay, undefined, { signal: signal instanceof AbortSignal ? signal : signal.abortSignal })
      } catch {
        throw failureOfThrown(signal.reason, signal)
      }
    }
  }
}
