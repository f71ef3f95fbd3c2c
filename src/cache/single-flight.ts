/**
 * Concurrent callers asking for the same key share one call: N browser tabs polling one job
 * while it is pending cost fal one status call, not N.
 */
export function createSingleFlight<T> () {
  const inFlight = new Map<string, Promise<T>>()
  return function shared (key: string, run: () => Promise<T>): Promise<T> {
    const pending = inFlight.get(key)
    if (pending !== undefined) return pending
    const started = run().finally(() => { inFlight.delete(key) })
    inFlight.set(key, started)
    return started
  }
}
