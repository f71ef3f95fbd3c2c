interface Flight<T> {
  promise: Promise<T>
  controller: AbortController
  /** Callers still waiting that could leave; when the last one leaves, the call is aborted. */
  leavable: number
  /** A caller without a signal never leaves, so the call always runs to its end. */
  pinned: boolean
}

/**
 * Concurrent callers asking for the same key share one call: N browser tabs polling one job
 * while it is pending cost fal one status call, not N. The shared call is aborted only when
 * every caller waiting on it has gone away.
 */
export function createSingleFlight<T> () {
  const inFlight = new Map<string, Flight<T>>()

  return function shared (key: string, run: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    let flight = inFlight.get(key)
    if (flight === undefined) {
      const controller = new AbortController()
      const started: Flight<T> = { controller, leavable: 0, pinned: false, promise: undefined as unknown as Promise<T> }
      started.promise = run(controller.signal).finally(() => { inFlight.delete(key) })
      inFlight.set(key, started)
      flight = started
    }
    const joined = flight
    if (signal === undefined) {
      joined.pinned = true
      return joined.promise
    }
    joined.leavable++
    const leave = () => {
      joined.leavable--
      if (joined.leavable === 0 && !joined.pinned) joined.controller.abort(signal.reason)
    }
    signal.addEventListener('abort', leave, { once: true })
    return joined.promise.finally(() => { signal.removeEventListener('abort', leave) })
  }
}
