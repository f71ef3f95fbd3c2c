import type { FastifyBaseLogger } from 'fastify'
import { Type, type Static } from '@sinclair/typebox'
import { WebhookKeys } from './webhook-keys.js'

const WEBHOOK_TIMEOUT_MS = 5000
/** fal retries a failed delivery 10 times in about 2 hours: these are the waits before each retry. */
export const FAL_RETRY_DELAYS_MS = [15, 30, 60, 120, 300, 600, 1200, 1800, 3000].map(seconds => seconds * 1000)
/** fal's user id in the emulator's signatures, unless the options name another. */
export const EMULATOR_USER_ID = 'emulator-user'
const STALE_BY_SECONDS = 600
const DEFAULT_OVERSIZED_BYTES = 4 * 1024 * 1024
const MAX_RECORDED = 1000

export interface WebhookBody {
  request_id: string
  gateway_request_id: string
  status: 'OK' | 'ERROR'
  payload: unknown
  error?: string
  payload_error?: string
}

/**
 * How a delivery goes out: `genuine` as fal sends it; the rest are what a verifier must refuse —
 * signed by an unpublished key, without signature headers, signed 10 minutes ago, its body changed
 * after signing, sent twice with the same signature, or padded past any sane body limit (but
 * correctly signed).
 */
export const DeliveryKindSchema = Type.Union([
  Type.Literal('genuine'),
  Type.Literal('forged'),
  Type.Literal('unsigned'),
  Type.Literal('stale'),
  Type.Literal('tampered'),
  Type.Literal('duplicate'),
  Type.Literal('oversized')
])
export type DeliveryKind = Static<typeof DeliveryKindSchema>

export const TamperSchema = Type.Object({
  kind: DeliveryKindSchema,
  /** Delivery attempts (retries included) that go out this way before genuine ones resume. */
  count: Type.Optional(Type.Integer({ minimum: 1 })),
  /** Size of an `oversized` body. */
  bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024 }))
}, { additionalProperties: false })
export type Tamper = Static<typeof TamperSchema>

export interface DeliveryRecord {
  requestId: string
  url: string
  /** 1 for the first try, 2 for the first retry... */
  attempt: number
  kind: DeliveryKind
  /** The receiver's answer, or undefined when it could not be reached. */
  status?: number
  at: number
}

export interface WebhooksOptions {
  /** Waits before each retry (default fal's: 9 retries over about 2 hours). */
  retryDelaysMs?: number[]
  userId?: string
}

/**
 * Delivers `?fal_webhook=` notifications as fal does: signed with the run's Ed25519 key (fal's four
 * headers), retried on any answer but 2xx along fal's schedule. A tamper switch sends the next
 * deliveries forged, unsigned, stale, tampered, duplicated or oversized, so a verifier is tested
 * against a real signer over real sockets.
 */
interface Scheduled {
  url: string
  body: () => WebhookBody
  timer?: NodeJS.Timeout
}

export class Webhooks {
  readonly keys = new WebhookKeys()
  /** Deliveries made, newest last (the most recent 1000). */
  readonly deliveries: DeliveryRecord[] = []
  /** Off: the JWKS endpoint answers 503, as during an outage. */
  jwksAvailable = true
  jwksFetches = 0
  readonly #scheduled = new Map<string, Scheduled>()
  readonly #retries = new Set<NodeJS.Timeout>()
  readonly #log: FastifyBaseLogger
  readonly #closing: AbortSignal
  readonly #retryDelaysMs: number[]
  readonly #userId: string
  #tamper: Tamper | undefined
  #tamperLeft = 0

  constructor (log: FastifyBaseLogger, closing: AbortSignal, options: WebhooksOptions = {}) {
    this.#log = log
    this.#closing = closing
    this.#retryDelaysMs = options.retryDelaysMs ?? FAL_RETRY_DELAYS_MS
    this.#userId = options.userId ?? EMULATOR_USER_ID
  }

  /** The next `count` (default 1) delivery attempts go out as `kind`. */
  tamper (tamper: Tamper): void {
    this.#tamper = tamper
    this.#tamperLeft = tamper.count ?? 1
  }

  /** Posts `body()` to `url` at time `at` (Infinity: not until rescheduled), unless unscheduled first. */
  schedule (requestId: string, url: string, at: number, body: () => WebhookBody): void {
    this.unschedule(requestId)
    this.#scheduled.set(requestId, { url, body })
    this.reschedule(requestId, at)
  }

  /** Moves a scheduled delivery to `at`, as when a held job is released. */
  reschedule (requestId: string, at: number): void {
    const scheduled = this.#scheduled.get(requestId)
    if (scheduled === undefined) return
    clearTimeout(scheduled.timer)
    scheduled.timer = Number.isFinite(at)
      ? setTimeout(() => {
        this.#scheduled.delete(requestId)
        this.post(scheduled.url, scheduled.body())
      }, Math.max(0, at - Date.now()))
      : undefined
  }

  unschedule (requestId: string): void {
    clearTimeout(this.#scheduled.get(requestId)?.timer)
    this.#scheduled.delete(requestId)
  }

  /** Delivers with fal's retries: until the receiver answers 2xx or the schedule runs out. */
  post (url: string, body: WebhookBody, attempt = 1): void {
    if (this.#closing.aborted) return
    const kind = this.#nextKind()
    this.send(url, body, kind, { attempt, bytes: this.#tamper?.bytes }).then(statuses => {
      if (statuses.every(status => status !== undefined && status >= 200 && status < 300)) return
      const delay = this.#retryDelaysMs[attempt - 1]
      if (delay === undefined || this.#closing.aborted) return
      const timer = setTimeout(() => {
        this.#retries.delete(timer)
        this.post(url, body, attempt + 1)
      }, delay)
      this.#retries.add(timer)
    }, (error: unknown) => {
      this.#log.warn({ err: error, requestId: body.request_id }, 'webhook delivery failed')
    })
  }

  /**
   * One delivery attempt of the given kind, no retry: the receiver's statuses (two for a
   * duplicate; undefined where it could not be reached).
   */
  async send (url: string, body: WebhookBody, kind: DeliveryKind = 'genuine', options: { attempt?: number, bytes?: number } = {}): Promise<Array<number | undefined>> {
    const attempt = options.attempt ?? 1
    const json = kind === 'oversized'
      ? { ...body, padding: 'x'.repeat(options.bytes ?? DEFAULT_OVERSIZED_BYTES) }
      : body
    const raw = Buffer.from(JSON.stringify(json))
    const now = Math.floor(Date.now() / 1000)
    const timestamp = kind === 'stale' ? now - STALE_BY_SECONDS : now
    const signed = this.keys.headers(body.request_id, this.#userId, timestamp, raw, kind === 'forged')
    const headers: Record<string, string> = kind === 'unsigned'
      ? { 'content-type': 'application/json' }
      : { 'content-type': 'application/json', ...signed }
    const sent = kind === 'tampered' ? Buffer.from(JSON.stringify({ ...body, status: body.status === 'OK' ? 'ERROR' : 'OK' })) : raw
    const statuses = [await this.#deliver(url, headers, sent, body.request_id, kind, attempt)]
    if (kind === 'duplicate') statuses.push(await this.#deliver(url, headers, sent, body.request_id, kind, attempt))
    return statuses
  }

  async #deliver (url: string, headers: Record<string, string>, body: Buffer, requestId: string, kind: DeliveryKind, attempt: number): Promise<number | undefined> {
    let status: number | undefined
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: new Uint8Array(body),
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(WEBHOOK_TIMEOUT_MS), this.#closing])
      })
      status = response.status
      await response.body?.cancel()
    } catch (error) {
      this.#log.warn({ err: error, requestId }, 'webhook receiver unreachable')
    }
    this.deliveries.push({ requestId, url, attempt, kind, status, at: Date.now() })
    if (this.deliveries.length > MAX_RECORDED) this.deliveries.shift()
    return status
  }

  #nextKind (): DeliveryKind {
    if (this.#tamper === undefined || this.#tamperLeft <= 0) return 'genuine'
    this.#tamperLeft -= 1
    return this.#tamper.kind
  }

  close (): void {
    for (const { timer } of this.#scheduled.values()) clearTimeout(timer)
    for (const timer of this.#retries) clearTimeout(timer)
    this.#scheduled.clear()
    this.#retries.clear()
  }
}
