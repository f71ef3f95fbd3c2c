import { Deadline } from './deadline.js'
import type { Departure } from './departure.js'
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
/** Calls whose deadline ends at fal's first answer; the caller's signal bounds the rest. */
const STREAMS = new Set<UpstreamOperation>(['stream', 'run-stream'])

/**
 * How every call to fal is made: under the operation's total deadline (and the caller's signal,
 * which fires when the client leaves), behind the operation's breaker, and, for idempotent reads
 * only, retried within that same deadline.
 */
export function createCallPolicy ({ timeouts, retry, breakers }: CallPolicyOptions) {
  return async function call<T> (operation: UpstreamOperation, signal: Departure | undefined, attempt: (deadline: Deadline) => Promise<T>): Promise<T> {
    // Nobody waits for this call any more: it is not made, and fal and the breaker see nothing.
    if (signal?.aborted === true) throw signal.reason
    const timeoutMs = timeouts[operation]
    const deadline = new Deadline(timeoutMs, signal)
    if (STREAMS.has(operation)) {
      // Once fal has answered, the stream lives as long as the caller's signal allows.
      try {
        return await breakers.fire(operation, () => attempt(deadline))
      } finally {
        deadline.settle()
      }
    }
    // A relayed body is read after this returns; the pool's body timeout bounds that read.
    try {
      const once = (): Promise<T> => breakers.fire(operation, () => attempt(deadline))
      if (!IDEMPOTENT.has(operation)) return await once()
      return await withRetries(once, retry, Date.now() + timeoutMs, deadline)
    } finally {
      deadline.release()
    }
  }
}

export type CallPolicy = ReturnType<typeof createCallPolicy>
