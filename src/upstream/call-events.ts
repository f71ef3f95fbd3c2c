import type { UpstreamOperation } from './breakers.js'
import { FalFailure } from './fal-failure.js'

/** Where a call to fal ended: fal's answer class, or why there was none. */
export type UpstreamOutcome = 'ok' | 'client_error' | 'server_error' | 'timeout' | 'error'

/** One call that went out to fal (each retry is one), as it ended. */
export interface UpstreamCall {
  operation: UpstreamOperation
  /** The endpoint id a submit or run named, the app id of a request, or `storage`. */
  model: string
  outcome: UpstreamOutcome
  /** From sending the call to fal's answer (its headers for a stream, the whole body otherwise) or the failure. */
  seconds: number
}

export type UpstreamCallListener = (call: UpstreamCall) => void

/**
 * Every call that leaves for fal, told to whoever listens (metrics) once it has ended. The upstream
 * layer reports its own calls, knowing what each is about, rather than metrics reading undici's
 * diagnostics channels and parsing every request's path back into a model and an operation: on
 * a status poll that round trip cost more CPU than the counting (BENCHMARKS.md).
 */
export function createCallEvents () {
  const listeners = new Set<UpstreamCallListener>()

  function report (operation: UpstreamOperation, model: string, outcome: UpstreamOutcome, startedAt: number): void {
    const call = { operation, model, outcome, seconds: (performance.now() - startedAt) / 1000 }
    for (const listener of listeners) listener(call)
  }

  return {
    /** Calls `listener` for every call to fal from now on; returns the unsubscribe. */
    onCall (listener: UpstreamCallListener): () => void {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },

    /** One call to fal: `send` is made, and how it ends is reported. */
    watch<T> (operation: UpstreamOperation, model: string, send: () => Promise<T>): Promise<T> {
      if (listeners.size === 0) return send()
      const startedAt = performance.now()
      return send().then(answer => {
        report(operation, model, outcomeOfAnswer(answer), startedAt)
        return answer
      }, (error: unknown) => {
        report(operation, model, outcomeOfFailure(error), startedAt)
        throw error
      })
    }
  }
}

export type CallEvents = ReturnType<typeof createCallEvents>

/** A success, or a 4xx passed on to the client as fal's answer (a cancel too late, an upload refused). */
function outcomeOfAnswer (answer: unknown): UpstreamOutcome {
  const status = (answer as { statusCode?: unknown } | undefined)?.statusCode
  return typeof status === 'number' && status >= 400 ? 'client_error' : 'ok'
}

function outcomeOfFailure (error: unknown): UpstreamOutcome {
  if (!(error instanceof FalFailure)) return 'error'
  switch (error.outcome.kind) {
    case 'answered': return error.outcome.status < 500 ? 'client_error' : 'server_error'
    case 'timeout': return 'timeout'
    default: return 'error'
  }
}
