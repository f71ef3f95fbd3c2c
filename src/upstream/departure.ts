/**
 * The caller going away: what the upstream layer listens to, so that a call nobody waits for
 * any more is aborted. A real AbortSignal is one; `ManualDeparture` is a lighter one for the
 * hot path, since an AbortController costs ~25 µs to create on Node 20 (BENCHMARKS.md).
 */
export interface Departure {
  readonly aborted: boolean
  readonly reason: unknown
  addEventListener (type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener (type: 'abort', listener: () => void): void
}

/** A Departure set off by hand, once. Listeners are called once, then dropped. */
export class ManualDeparture implements Departure {
  aborted = false
  reason: unknown = undefined
  #listeners: Array<() => void> | undefined

  addEventListener (_type: 'abort', listener: () => void): void {
    (this.#listeners ??= []).push(listener)
  }

  removeEventListener (_type: 'abort', listener: () => void): void {
    const index = this.#listeners?.indexOf(listener) ?? -1
    if (index >= 0) this.#listeners?.splice(index, 1)
  }

  depart (reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    const listeners = this.#listeners ?? []
    this.#listeners = undefined
    for (const listener of listeners) listener()
  }
}

/** A departure bounded in time; `dispose` lets go of its timer once the stream has ended. */
export interface BoundedDeparture extends Departure {
  dispose: () => void
}

/** `departure`, or `lifetimeMs` passing, whichever comes first (a status stream's bound). */
export function departureWithin (departure: Departure, lifetimeMs: number): BoundedDeparture {
  const bounded = new ManualDeparture()
  const timer = setTimeout(() => {
    bounded.depart(new DOMException(`open for ${lifetimeMs} ms`, 'TimeoutError'))
  }, lifetimeMs)
  timer.unref()
  const leave = (): void => {
    clearTimeout(timer)
    bounded.depart(departure.reason)
  }
  if (departure.aborted) leave()
  else departure.addEventListener('abort', leave, { once: true })
  return Object.assign(bounded, {
    dispose: () => {
      clearTimeout(timer)
      departure.removeEventListener('abort', leave)
    }
  })
}
