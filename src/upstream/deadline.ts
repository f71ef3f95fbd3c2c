import { ManualDeparture, type Departure } from './departure.js'

/**
 * The total deadline of one call to fal, retries included: fires with a TimeoutError after
 * `timeoutMs`, or with the caller's reason when the caller leaves first. It is itself the signal
 * the pool is given (undici reads only `aborted`, `reason` and the abort listeners of a signal);
 * an AbortController costs ~8 µs of CPU on Node 24 once its signal exists (BENCHMARKS.md), so a
 * real AbortSignal is made only for what needs one (`@fal-ai/client`'s fetch, a retry's wait).
 */
export class Deadline extends ManualDeparture {
  readonly #timer: NodeJS.Timeout
  readonly #caller: Departure | undefined
  readonly #leave = (): void => { this.depart(this.#caller?.reason) }
  #controller: AbortController | undefined

  constructor (timeoutMs: number, caller?: Departure) {
    super()
    this.#caller = caller
    this.#timer = setTimeout(() => {
      this.depart(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'))
    }, timeoutMs)
    this.#timer.unref()
    if (caller?.aborted === true) this.#leave()
    else caller?.addEventListener('abort', this.#leave, { once: true })
  }

  /** The same deadline as an AbortSignal, made on first use. */
  get abortSignal (): AbortSignal {
    if (this.#controller === undefined) {
      const controller = this.#controller = new AbortController()
      if (this.aborted) controller.abort(this.reason)
      else this.addEventListener('abort', () => { controller.abort(this.reason) })
    }
    return this.#controller.signal
  }

  /** The answer came: no timeout any more, but the caller's signal still aborts (streams). */
  settle (): void {
    clearTimeout(this.#timer)
  }

  /** The call is over: no timeout, and the caller's signal is let go. */
  release (): void {
    this.settle()
    this.#caller?.removeEventListener('abort', this.#leave)
  }
}
