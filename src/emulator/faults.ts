import { once, setMaxListeners } from 'node:events'
import { STATUS_CODES } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { Type, type Static } from '@sinclair/typebox'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { OperationSchema, type Operation } from './calls.js'

export const FaultSchema = Type.Object({
  mode: Type.Union([
    Type.Literal('delay'),
    Type.Literal('hang'),
    Type.Literal('status'),
    Type.Literal('reset'),
    Type.Literal('malformed'),
    /** A 307 to `location`: fal never redirects its API, so a gateway must not follow one. */
    Type.Literal('redirect'),
    /** A 200 HTML page, as a misrouted edge or a captive portal would answer. */
    Type.Literal('html'),
    /** `status` (default 503) with a body echoing the request's headers, key included. */
    Type.Literal('echo-headers'),
    // Waits until the fault is cleared or replaced, then answers normally: a delay the test ends.
    Type.Literal('hold')
  ]),
  /** Operations the fault applies to; all when omitted. */
  operations: Type.Optional(Type.Array(OperationSchema)),
  delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  status: Type.Optional(Type.Integer({ minimum: 100, maximum: 599 })),
  retryAfter: Type.Optional(Type.Integer({ minimum: 0 })),
  location: Type.Optional(Type.String({ minLength: 1 })),
  /** Apply to the next `count` matching calls, then clear itself. */
  count: Type.Optional(Type.Integer({ minimum: 1 }))
}, { additionalProperties: false })
export type Fault = Static<typeof FaultSchema>

export interface FaultSwitch {
  set (fault: Fault): void
  clear (): void
  readonly current: Fault | undefined
}

const DEFAULT_DELAY_MS = 1000
const DEFAULT_STATUS = 503

/** Holds the one active fault and hands it out to matching calls, counting them down. */
export class Faults implements FaultSwitch {
  #fault: Fault | undefined
  #remaining = Infinity
  #release = Faults.#releaseSwitch()

  get current (): Fault | undefined {
    return this.#fault
  }

  /** Aborts when the fault is cleared or replaced: what calls held by a `hold` fault wait for. */
  get released (): AbortSignal {
    return this.#release.signal
  }

  set (fault: Fault): void {
    this.#releaseHeld()
    this.#fault = { ...fault }
    this.#remaining = fault.count ?? Infinity
  }

  clear (): void {
    this.#releaseHeld()
    this.#fault = undefined
  }

  /** The fault to apply to this call, if any; consumes one of its `count`. */
  take (operation: Operation): Fault | undefined {
    const fault = this.#fault
    if (fault === undefined) return undefined
    if (fault.operations !== undefined && !fault.operations.includes(operation)) return undefined
    this.#remaining -= 1
    // Used up, it applies to no further call; the calls it holds wait for clear() all the same.
    if (this.#remaining <= 0) this.#fault = undefined
    return fault
  }

  #releaseHeld (): void {
    this.#release.abort()
    this.#release = Faults.#releaseSwitch()
  }

  static #releaseSwitch (): AbortController {
    const release = new AbortController()
    // Every held call listens.
    setMaxListeners(0, release.signal)
    return release
  }
}

/**
 * Plays `fault` on this request. Resolves true when the fault took over the answer (the route must
 * not run), false when the request should go on normally (after a delay, or once `released`).
 * `closing` aborts when the emulator closes, so neither a delay, a hold nor a hang keeps it open.
 */
export async function applyFault (fault: Fault, request: FastifyRequest, reply: FastifyReply, closing: AbortSignal, released: AbortSignal): Promise<boolean> {
  switch (fault.mode) {
    case 'hold': {
      const either = AbortSignal.any([released, closing])
      if (!either.aborted) await once(either, 'abort')
      if (!closing.aborted) return false
      reply.hijack()
      request.raw.destroy()
      return true
    }
    case 'delay':
      try {
        await sleep(fault.delayMs ?? DEFAULT_DELAY_MS, undefined, { signal: closing })
        return false
      } catch {
        reply.hijack()
        request.raw.destroy()
        return true
      }
    case 'hang':
      hang(request, reply, closing)
      return true
    case 'status': {
      const status = fault.status ?? DEFAULT_STATUS
      if (fault.retryAfter !== undefined) reply.header('retry-after', String(fault.retryAfter))
      reply.code(status).send({ detail: STATUS_CODES[status] ?? 'Injected fault' })
      return true
    }
    case 'reset':
      reply.hijack()
      request.raw.socket.destroy()
      return true
    case 'malformed':
      reply.code(200).type('application/json').send('{"request_id": ')
      return true
    case 'redirect':
      reply.code(307).header('location', fault.location ?? '/').send()
      return true
    case 'html':
      reply.code(200).type('text/html; charset=utf-8').send('<!doctype html><html><body><h1>Welcome</h1></body></html>')
      return true
    case 'echo-headers':
      reply.code(fault.status ?? DEFAULT_STATUS).send({ detail: `headers received: ${JSON.stringify(request.headers)}`, headers: request.headers })
      return true
  }
}

// Never answers; the socket goes when the client gives up or the emulator closes.
function hang (request: FastifyRequest, reply: FastifyReply, closing: AbortSignal): void {
  reply.hijack()
  const socket = request.raw.socket
  const release = (): void => { socket.destroy() }
  if (closing.aborted) return release()
  closing.addEventListener('abort', release, { once: true })
  socket.once('close', () => closing.removeEventListener('abort', release))
}
