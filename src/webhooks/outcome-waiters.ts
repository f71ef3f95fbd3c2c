import type { JobOutcome } from './outcome-store.js'

/** The requests someone on this replica is waiting on (status streams, `/events`), and who. */
export class OutcomeWaiters {
  readonly #waiting = new Map<string, Set<(outcome: JobOutcome) => void>>()

  get requestIds (): string[] {
    return [...this.#waiting.keys()]
  }

  has (requestId: string): boolean {
    return this.#waiting.has(requestId)
  }

  /** Resolves on `settle(requestId, …)`; rejects when the signal aborts first. */
  wait (requestId: string, signal: AbortSignal): Promise<JobOutcome> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(signal.reason)
        return
      }
      const set = this.#waiting.get(requestId) ?? new Set()
      this.#waiting.set(requestId, set)
      const onAbort = (): void => {
        forget()
        reject(signal.reason)
      }
      const forget = (): void => {
        set.delete(settle)
        if (set.size === 0 && this.#waiting.get(requestId) === set) this.#waiting.delete(requestId)
        signal.removeEventListener('abort', onAbort)
      }
      const settle = (outcome: JobOutcome): void => {
        forget()
        resolve(outcome)
      }
      set.add(settle)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  settle (outcome: JobOutcome): void {
    for (const settle of [...this.#waiting.get(outcome.requestId) ?? []]) settle(outcome)
  }
}
