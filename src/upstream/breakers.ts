import CircuitBreaker from 'opossum'
import { FalFailure } from './fal-failure.js'

/** The calls the gateway makes to fal, each behind a breaker of its own. */
export const UPSTREAM_OPERATIONS = ['submit', 'status', 'stream', 'result', 'cancel', 'upload', 'run', 'run-stream'] as const
export type UpstreamOperation = typeof UPSTREAM_OPERATIONS[number]

export type BreakerState = 'closed' | 'open' | 'half-open'

export interface BreakerOptions {
  /** Share of failed calls in the window that opens the breaker. */
  errorThresholdPercent: number
  /** Calls in the window before the breaker may open at all. */
  volumeThreshold: number
  /** How long an open breaker refuses calls before it lets one probe through. */
  resetMs: number
  /** The rolling window the failure share is counted over. */
  windowMs: number
}

export interface BreakerStatus {
  operation: UpstreamOperation
  state: BreakerState
}

/** A state change, or a call refused without reaching fal (`rejected`); `state` is the state after it. */
export interface BreakerEvent {
  operation: UpstreamOperation
  type: 'opened' | 'half-opened' | 'closed' | 'rejected'
  state: BreakerState
}

type Action = () => Promise<unknown>

/**
 * Only failures that say fal itself is unwell count: its 5xx, redirects, timeouts, unreachable, garbage.
 * fal's 4xx (429 included: it is answering) and the client leaving do not.
 */
function isUpstreamFailure (error: unknown): boolean {
  if (!(error instanceof FalFailure)) return false
  if (error.outcome.kind === 'answered') return error.outcome.status >= 500
  return error.outcome.kind !== 'circuit-open'
}

/**
 * One opossum breaker per upstream operation. While one is open its calls fail at once with
 * a circuit-open FalFailure (with a Retry-After of the time left) and fal sees nothing; after
 * `resetMs` a single probe goes through and its outcome closes or reopens the breaker.
 */
export function createBreakers (options: BreakerOptions) {
  const listeners = new Set<(event: BreakerEvent) => void>()
  const openedAt = new Map<UpstreamOperation, number>()
  const emit = (event: BreakerEvent): void => { for (const listener of listeners) listener(event) }

  const breakers = new Map(UPSTREAM_OPERATIONS.map(operation => {
    const breaker = new CircuitBreaker<[Action], unknown>(async (action: Action) => await action(), {
      name: operation,
      // Deadlines are the gateway's own (deadline.ts); opossum would only race them.
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercent,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetMs,
      rollingCountTimeout: options.windowMs,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      errorFilter: (error: unknown) => !isUpstreamFailure(error)
    })
    breaker.on('open', () => {
      openedAt.set(operation, Date.now())
      emit({ operation, type: 'opened', state: 'open' })
    })
    breaker.on('halfOpen', () => { emit({ operation, type: 'half-opened', state: 'half-open' }) })
    breaker.on('close', () => { emit({ operation, type: 'closed', state: 'closed' }) })
    breaker.on('reject', () => { emit({ operation, type: 'rejected', state: stateOf(breaker) }) })
    return [operation, breaker] as const
  }))

  function stateOf (breaker: CircuitBreaker<[Action], unknown>): BreakerState {
    if (breaker.opened) return 'open'
    return breaker.halfOpen ? 'half-open' : 'closed'
  }

  function retryAfterSeconds (operation: UpstreamOperation): number {
    const left = (openedAt.get(operation) ?? Date.now()) + options.resetMs - Date.now()
    return Math.max(1, Math.ceil(left / 1000))
  }

  return {
    /** Runs `action` behind the operation's breaker. */
    async fire<T> (operation: UpstreamOperation, action: () => Promise<T>): Promise<T> {
      const breaker = breakers.get(operation) as CircuitBreaker<[Action], unknown>
      try {
        return await breaker.fire(action) as T
      } catch (error) {
        const code = (error as { code?: string }).code
        if (code === 'EOPENBREAKER' || code === 'ESHUTDOWN') throw new FalFailure({ kind: 'circuit-open', retryAfterSeconds: retryAfterSeconds(operation) })
        throw error
      }
    },

    /** Every breaker and its state now, for metrics and health. */
    states (): BreakerStatus[] {
      return [...breakers].map(([operation, breaker]) => ({ operation, state: stateOf(breaker) }))
    },

    /** Calls `listener` on every state change and refused call; returns the unsubscribe. */
    onEvent (listener: (event: BreakerEvent) => void): () => void {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },

    /** Stops the breakers' timers; calls after this are refused. */
    shutdown (): void {
      for (const breaker of breakers.values()) breaker.shutdown()
      listeners.clear()
    }
  }
}

export type Breakers = ReturnType<typeof createBreakers>
