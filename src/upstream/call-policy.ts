import { answerDeadline, withDeadline } from './deadline.js'
import type { Breakers, UpstreamOperation } from './breakers.js'
import { withRetries, type RetryOptions } from './retry.js'

export interface CallPolicyOptions {
  /** Total deadline per operation; for `stream`, the deadline on fal's first answer only. */
  timeouts: Record<UpstreamOperation, number>
  retry: RetryOptions
  breakers: Breakers
}

/** Reads that are safe to repeat. A submit or a cancel is sent once, whatever happens. */
const IDEMPOTENT = new Set<UpstreamOperation>(['status', 'result'])

/**
 * How every call to fal is made: under the operation's total deadline (and the caller's signal,
 * which fires when the client leaves), behind the operation's breaker, and, for idempotent reads
 * only, retried within that same deadline.
 */
export function createCallPolicy ({ timeouts, retry, breakers }: CallPolicyOptions) {
  return async function call<T> (operation: UpstreamOperation, signal: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const timeoutMs = timeouts[operation]
    if (operation === 'stream') {
      const deadline = answerDeadline(timeoutMs, signal)
      try {
        return await breakers.fire(operation, () => attempt(deadline.signal))
      } finally {
        deadline.settle()
      }
    }
    const deadline = withDeadline(timeoutMs, signal)
    const once = (): Promise<T> => breakers.fire(operation, () => attempt(deadline))
    if (!IDEMPOTENT.has(operation)) return await once()
    return await withRetries(once, retry, Date.now() + timeoutMs, deadline)
  }
}

export type CallPolicy = ReturnType<typeof createCallPolicy>
