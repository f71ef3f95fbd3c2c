import { ManualDeparture, type Departure } from '../upstream/departure.js'

interface Flight<T> {
  promise: Promise<T>
  /** Fires when every caller that could leave has left. */
  departure: ManualDeparture
  leavable: number
  /** A caller without a departure never leaves, so the call always runs to its end. */
  pinned: boolean
}

/**
 * Concurrent callers asking for the same key share one call: N browser tabs polling one job
 * while it is pending cost fal one status call, not N. The shared call is aborted only when
 * every caller waiting on it has gone away.
 */
export function createSingleFlight<T> () {
  const inFlight = new Map<string, Flight<T>>()

  return function shared (key: string, run: (departure: Departure) => Promise<T>, caller?: Departure): Promise<T> {
    // A caller already gone would never be told to leave: it neither starts a call nor joins one.
    if (caller?.aborted === true) return Promise.reject(caller.reason)
    let flight = inFlight.get(key)
    if (flight === undefined) {
      const departure = new ManualDeparture()
      const started: Flight<T> = { departure, leavable: 0, pinned: false, promise: undefined as unknown as Promise<T> }
      started.promise = run(departure).finally(() => { inFlight.delete(key) })
      inFlight.set(key, started)
      flight = started
    }
    const joined = flight
    if (caller === undefined) {
      joined.pinned = true
      return joined.promise
    }
    joined.leavable++
    const leave = (): void => {
      joined.leavable--
      if (joined.leavable !== 0 || joined.pinned) return
      joined.departure.depart(caller.reason)
      // A poll arriving now must start afresh, not join a call that is being aborted.
      if (inFlight.get(key) === joined) inFlight.delete(key)
    }
    caller.addEventListener('abort', leave, { once: true })
    return joined.promise.finally(() => { caller.removeEventListener('abort', leave) })
  }
}
