import { Webhook } from 'standardwebhooks'
import { request, type Agent } from 'undici'
import { assertPublicLiteral } from './safe-target.js'
import type { ClientDelivery } from './delivery-queue.js'

export interface SendOptions {
  /** The pool whose lookup refuses private addresses (safe-target.ts). */
  agent: Agent
  signer: Webhook
  timeoutMs: number
  allowLoopback: boolean
  /** Is the URL still on the allowlist? Throws when not (the operator may have changed it). */
  checkUrl: (url: string) => string
}

/** Bytes of a receiver's answer read before the connection is dropped: only its status matters. */
const MAX_ANSWER_BYTES = 64 * 1024

export type SendResult = { ok: true } | { ok: false, error: string, permanent: boolean }

/**
 * One attempt to POST an outcome to a client's webhook, signed per Standard Webhooks (`webhook-id`
 * is the delivery's, stable across retries, so the receiver can drop duplicates). No redirect is
 * followed, the attempt times out, the answer's body is capped and ignored; only a 2xx counts.
 */
export async function sendWebhook (delivery: ClientDelivery, options: SendOptions): Promise<SendResult> {
  let url: URL
  try {
    url = new URL(options.checkUrl(delivery.url))
    assertPublicLiteral(url, options.allowLoopback)
  } catch (error) {
    return { ok: false, error: (error as Error).message, permanent: true }
  }
  const messageId = `msg_${delivery.id}`
  const timestamp = new Date()
  const signature = options.signer.sign(messageId, timestamp, delivery.body)
  try {
    const response = await request(url, {
      method: 'POST',
      dispatcher: options.agent,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'fal-gateway-webhooks',
        'webhook-id': messageId,
        'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
        'webhook-signature': signature
      },
      body: delivery.body,
      signal: AbortSignal.timeout(options.timeoutMs)
    })
    await response.body.dump({ limit: MAX_ANSWER_BYTES }).catch(() => {})
    if (response.statusCode >= 200 && response.statusCode < 300) return { ok: true }
    return { ok: false, error: `HTTP ${response.statusCode}`, permanent: false }
  } catch (error) {
    const { name, code, message } = error as { name?: string, code?: string, message?: string }
    return { ok: false, error: code ?? (name === 'TimeoutError' ? 'timeout' : message ?? 'unreachable'), permanent: false }
  }
}
