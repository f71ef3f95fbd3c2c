import type { FastifyBaseLogger } from 'fastify'

const WEBHOOK_TIMEOUT_MS = 5000

export interface WebhookBody {
  request_id: string
  gateway_request_id: string
  status: 'OK' | 'ERROR'
  payload: unknown
  error?: string
}

/**
 * Delivers `?fal_webhook=` notifications, best effort: one attempt, 5 s timeout, failures logged.
 * Unlike fal it neither retries nor signs (there is no fal key pair to sign with).
 */
interface Scheduled {
  url: string
  body: () => WebhookBody
  timer?: NodeJS.Timeout
}

export class Webhooks {
  readonly #scheduled = new Map<string, Scheduled>()
  readonly #log: FastifyBaseLogger
  readonly #closing: AbortSignal

  constructor (log: FastifyBaseLogger, closing: AbortSignal) {
    this.#log = log
    this.#closing = closing
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

  post (url: string, body: WebhookBody): void {
    if (this.#closing.aborted) return
    this.#deliver(url, body).catch((error: unknown) => {
      this.#log.warn({ err: error, requestId: body.request_id }, 'webhook delivery failed')
    })
  }

  async #deliver (url: string, body: WebhookBody): Promise<void> {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fal-webhook-request-id': body.request_id },
      body: JSON.stringify(body),
      signal: AbortSignal.any([AbortSignal.timeout(WEBHOOK_TIMEOUT_MS), this.#closing])
    })
    await response.body?.cancel()
  }

  close (): void {
    for (const { timer } of this.#scheduled.values()) clearTimeout(timer)
    this.#scheduled.clear()
  }
}
