import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import {
  FalJwksUnavailable,
  WebhookMalformed,
  WebhookReplayed,
  WebhookSignatureInvalid,
  WebhookStale,
  WebhookUnknownRequest,
  WebhookUnsigned
} from '../errors/gateway-errors.js'
import { StoreUnavailable } from '../errors/gateway-errors.js'
import type { FalWebhookRefusal } from '../metrics/webhook-metrics.js'
import { parseFalDelivery } from './fal-delivery.js'
import { createFalJwks, JwksUnavailableError } from './fal-jwks.js'
import { isTimely, readFalSignature, signedMessage, TIMESTAMP_TOLERANCE_S } from './fal-signature.js'

/** A (request id, timestamp) pair is remembered this long: any replay still inside the window is caught. */
const REPLAY_WINDOW_MS = 2 * TIMESTAMP_TOLERANCE_S * 1000
const JWKS_RETRY_AFTER_S = 30

/**
 * `POST /webhooks/fal`: fal's webhook, verified exactly as fal specifies (its four headers, Ed25519
 * over `request_id \n user_id \n timestamp \n hex(sha256(raw body))`, any key of its JWKS, a timestamp
 * within 300 s), then recorded as the job's one outcome. Everything refused is refused before it
 * changes anything: 401 unsigned, forged or stale; 400 not fal's body; 404 a request this gateway
 * did not submit; 409 a replay; 413 too large. 503 only where fal's retry can succeed: the JWKS or
 * the store is unreachable. Never accepted unverified.
 */
export default fp<{ config: Config }>(async function falReceiver (fastify, { config }) {
  const jwks = createFalJwks({ url: config.falWebhooks.jwksUrl, minRefreshMs: config.falWebhooks.jwksMinRefreshMs })
  const metrics = fastify.webhookMetrics
  const bodyLimit = config.falWebhooks.bodyLimit

  function refuse (reason: FalWebhookRefusal, error: Error): Error {
    metrics.falRefused.inc({ reason })
    return error
  }

  async function receive (request: FastifyRequest): Promise<{ ok: true }> {
    const signature = readFalSignature(request.headers)
    if (signature === undefined) throw refuse('unsigned', new WebhookUnsigned())
    if (!isTimely(signature.timestamp)) throw refuse('stale', new WebhookStale())
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    let signed: boolean
    try {
      signed = await jwks.verify(signedMessage(signature, raw), signature.signature)
    } catch (error) {
      if (!(error instanceof JwksUnavailableError)) throw error
      request.log.warn({ err: error }, "fal's JWKS is unreachable: webhook deferred to fal's retry")
      throw refuse('jwks_unavailable', new FalJwksUnavailable(JWKS_RETRY_AFTER_S))
    }
    if (!signed) throw refuse('forged', new WebhookSignatureInvalid())

    const delivery = parseFalDelivery(raw)
    if (typeof delivery === 'string') throw refuse('malformed', new WebhookMalformed(delivery))
    if (delivery.request_id !== signature.requestId) throw refuse('malformed', new WebhookMalformed('request_id differs from the signed X-Fal-Webhook-Request-Id'))
    const requestId = delivery.request_id.toLowerCase()
    request.log.info({ falRequestId: requestId, status: delivery.status }, 'fal webhook verified')

    try {
      if (await fastify.limitStore.ownerOf(requestId) === undefined) throw refuse('unknown_request', new WebhookUnknownRequest())
      const outcome = {
        requestId,
        status: delivery.status,
        ...(typeof delivery.error === 'string' ? { error: delivery.error } : {}),
        body: raw.toString('utf8'),
        receivedAt: Date.now()
      }
      const verdict = await fastify.outcomes.record(outcome, { timestamp: signature.timestamp, replayWindowMs: REPLAY_WINDOW_MS })
      if (verdict === 'replayed') throw refuse('replayed', new WebhookReplayed())
      // Also on `known`: a retry after a failed hand-over must hand over again (at least once).
      await fastify.clientWebhooks.outcomeArrived(outcome)
      metrics.falAccepted.inc({ result: verdict })
    } catch (error) {
      if (error instanceof StoreUnavailable) throw refuse('store_unavailable', error)
      throw error
    }
    return { ok: true }
  }

  // A scope of its own: its parser keeps the raw bytes (the JSON parser would consume them) and
  // applies to this route only.
  await fastify.register(async function falWebhookRoute (scope) {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_request, body, done) => { done(null, body) })
    scope.addHook('onRequest', async () => { metrics.falReceived.inc() })
    scope.addHook('onResponse', async (_request, reply) => {
      if (reply.statusCode === 413) metrics.falRefused.inc({ reason: 'oversized' })
    })
    scope.post('/webhooks/fal', { bodyLimit, schema: { hide: true } }, receive)
  })
}, { name: 'fal-webhook-receiver', dependencies: ['error-handler', 'limit-store', 'outcomes', 'client-webhooks'] })
