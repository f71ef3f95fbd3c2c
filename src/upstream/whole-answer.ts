import type { IncomingHttpHeaders } from 'node:http'
import type { Dispatcher } from 'undici'
import type { Departure } from './departure.js'

/** fal's answer read to its end: a status or result poll, a relayed call. */
export interface WholeAnswer {
  statusCode: number
  headers: IncomingHttpHeaders
  text: string
}

/**
 * Reads one answer whole, straight from undici's dispatch callbacks. Written by hand because
 * undici's `request` wraps every answer in a Readable stream and an AsyncResource, and
 * `body.text()` then reads it back through the stream's ticks and promises: on a poll of a few
 * hundred bytes that machinery costs more CPU than the bytes (BENCHMARKS.md). The dispatch
 * handler is undici's own lower-level API for this.
 *
 * The caller's departure (its deadline, or the client leaving) ends the call at once, even while
 * the request still waits for a free connection: it is answered then, and aborted as soon as
 * undici starts it.
 */
export class WholeAnswerReader implements Dispatcher.DispatchHandler {
  #statusCode = 0
  #headers: IncomingHttpHeaders = {}
  #chunks: Buffer[] = []
  #controller: Dispatcher.DispatchController | undefined
  #settled = false
  readonly #signal: Departure
  readonly #done: (error: unknown, answer?: WholeAnswer) => void
  readonly #abort = (): void => {
    if (this.#controller === undefined) this.#settle(this.#signal.reason)
    else this.#controller.abort(this.#signal.reason as Error)
  }

  /** `signal` must not have departed yet. */
  constructor (signal: Departure, done: (error: unknown, answer?: WholeAnswer) => void) {
    this.#signal = signal
    this.#done = done
    signal.addEventListener('abort', this.#abort)
  }

  onRequestStart (controller: Dispatcher.DispatchController): void {
    // Called again when undici retries an idempotent request on a fresh connection.
    this.#controller = controller
    if (this.#signal.aborted) controller.abort(this.#signal.reason as Error)
  }

  onResponseStart (_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return
    this.#statusCode = statusCode
    this.#headers = headers
  }

  onResponseData (_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#chunks.push(chunk)
  }

  onResponseEnd (): void {
    const chunks = this.#chunks
    const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')
    this.#settle(null, { statusCode: this.#statusCode, headers: this.#headers, text })
  }

  onResponseError (_controller: Dispatcher.DispatchController, error: Error): void {
    this.#settle(error)
  }

  /** Answers the caller once: a departure may already have answered it. */
  #settle (error: unknown, answer?: WholeAnswer): void {
    if (this.#settled) return
    this.#settled = true
    this.#signal.removeEventListener('abort', this.#abort)
    this.#done(error, answer)
  }
}
