import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Webhook } from 'standardwebhooks'
import type { Config } from '../../config.js'
import { WebhookDeliveryNotFound } from '../../errors/gateway-errors.js'
import { createWebhookCheck } from '../../http/webhook-allowlist.js'
import { errorResponses } from '../../schemas/errors.js'
import type { JobOutcome } from '../outcome-store.js'
import type { DeliveryQueue } from './delivery-queue.js'
import { startDispatcher } from './dispatcher.js'
import { createMemoryDeliveryQueue } from './memory-delivery-queue.js'
import { createRedisDeliveryQueue } from './redis-delivery-queue.js'
import { webhookAgent } from './safe-target.js'
import { sendWebhook } from './send-webhook.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Outcomes re-signed by the gateway and delivered to clients' own webhooks. */
    clientWebhooks: {
      /** WEBHOOK_SECRET is set: client webhooks can be delivered. */
      enabled: boolean
      /**
       * At submit, instead of passing the client's `fal_webhook` to fal: remember it for the
       * request. Throws WebhookNotAllowed for a URL off the allowlist.
       */
      expect: (requestId: string, clientId: string, url: string) => Promise<void>
      /** A verified outcome: queue its delivery if the client asked for one. Idempotent. */
      outcomeArrived: (outcome: JobOutcome) => Promise<void>
    }
  }
}

const POLL_MAX_MS = 1000
const LEASE_MARGIN_MS = 5000

const DeadLetterSchema = Type.Object({
  id: Type.String(),
  requestId: Type.String(),
  clientId: Type.String(),
  url: Type.String(),
  attempts: Type.Integer(),
  lastError: Type.Optional(Type.String()),
  createdAt: Type.Integer(),
  failedAt: Type.Optional(Type.Integer())
})

const adminRoutes: FastifyPluginAsyncTypebox<{ queue: DeliveryQueue, wake: () => void }> = async (fastify, { queue, wake }) => {
  const onRequest = fastify.requireAdmin
  fastify.get('/admin/webhooks/failed', {
    onRequest,
    schema: {
      tags: ['admin'],
      summary: 'Client webhook deliveries given up after their last attempt, newest first',
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ failed: Type.Array(DeadLetterSchema) }), ...errorResponses(401, 503) }
    }
  }, async request => {
    const letters = await queue.deadLetters(request.query.limit ?? 100)
    return { failed: letters.map(({ body: _body, ...letter }) => letter) }
  })

  fastify.post('/admin/webhooks/failed/:id/replay', {
    onRequest,
    schema: {
      tags: ['admin'],
      summary: 'Queue a dead letter again, due now, with its attempts counted afresh',
      params: Type.Object({ id: Type.String({ maxLength: 128 }) }),
      response: { 202: Type.Object({ id: Type.String(), status: Type.Literal('QUEUED') }), ...errorResponses(401, 404, 503) }
    }
  }, async (request, reply) => {
    if (!await queue.replay(request.params.id)) throw new WebhookDeliveryNotFound()
    wake()
    return reply.code(202).send({ id: request.params.id, status: 'QUEUED' as const })
  })
}

/**
 * Client webhooks: at submit the client's URL is remembered (not given to fal); when fal's
 * verified outcome arrives it is queued, and every replica's dispatcher delivers what is due,
 * signed with WEBHOOK_SECRET (Standard Webhooks), retried with doubling backoff, at least once;
 * after WEBHOOK_MAX_ATTEMPTS it is a dead letter (`GET /admin/webhooks/failed`, replayable).
 * With Redis the queue survives restarts and is shared; without, it lives in this process.
 */
export default fp<{ config: Config }>(async function clientWebhooks (fastify, { config }) {
  const settings = config.clientWebhooks
  const queue = fastify.redis === undefined ? createMemoryDeliveryQueue() : createRedisDeliveryQueue(fastify.redis)
  const checkUrl = createWebhookCheck(config.webhookHosts, { allowLoopbackHttp: settings.allowLoopback })
  const metrics = fastify.webhookMetrics

  let wake = (): void => {}
  if (settings.secret !== undefined) {
    const signer = new Webhook(settings.secret)
    const agent = webhookAgent(settings.allowLoopback)
    const dispatcher = startDispatcher({
      queue,
      log: fastify.log.child({ component: 'client-webhooks' }),
      send: async delivery => await sendWebhook(delivery, { agent, signer, timeoutMs: settings.timeoutMs, allowLoopback: settings.allowLoopback, checkUrl }),
      maxAttempts: settings.maxAttempts,
      retryBaseMs: settings.retryBaseMs,
      retryMaxMs: settings.retryMaxMs,
      leaseMs: settings.timeoutMs + LEASE_MARGIN_MS,
      pollMs: Math.min(POLL_MAX_MS, settings.retryBaseMs),
      onSent: () => { metrics.clientDeliveries.inc({ result: 'sent' }) },
      onFailedAttempt: () => { metrics.clientDeliveries.inc({ result: 'failed' }) },
      onDeadLetter: () => { metrics.clientDeadLettered.inc() }
    })
    wake = dispatcher.wake
    fastify.addHook('onClose', async () => {
      await dispatcher.stop()
      await agent.close()
    })
  }

  fastify.decorate('clientWebhooks', {
    enabled: settings.secret !== undefined,
    async expect (requestId: string, clientId: string, url: string) {
      await queue.expect({ requestId: requestId.toLowerCase(), clientId, url: checkUrl(url) }, config.ownershipTtlMs)
    },
    async outcomeArrived (outcome: JobOutcome) {
      if (outcome.body === undefined) return
      if (await queue.handOver(outcome.requestId, outcome.body)) wake()
    }
  })

  await fastify.register(adminRoutes, { queue, wake: () => { wake() } })
}, { name: 'client-webhooks', dependencies: ['redis', 'admin-auth', 'outcomes'] })
