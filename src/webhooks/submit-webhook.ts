import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'
import type { Config } from '../config.js'
import { ClientWebhooksDisabled } from '../errors/gateway-errors.js'
import { createWebhookCheck } from '../http/webhook-allowlist.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Which webhook fal is asked for at submit, on both routes, and what becomes of the client's own. */
    submitWebhook: {
      /**
       * The client's `fal_webhook`, checked against WEBHOOK_HOSTS, and the one fal is given: with
       * FAL_WEBHOOKS=on always the gateway's receiver (the client's URL is then the gateway's to
       * deliver); off, the client's own, as before. Throws, before anything reaches fal,
       * WebhookNotAllowed for a URL off the allowlist and ClientWebhooksDisabled for one the
       * gateway could not deliver to (FAL_WEBHOOKS=on without WEBHOOK_SECRET).
       */
      resolve: (requested: string | undefined) => { clientWebhook?: string, falWebhook?: string }
      /** fal accepted the job: remember the client's URL for the re-signed delivery. Never throws. */
      accepted: (request: FastifyRequest, requestId: string, clientWebhook: string | undefined) => Promise<void>
    }
  }
}

/**
 * With FAL_WEBHOOKS=on every submit asks fal for `PUBLIC_URL/webhooks/fal`, so every job's outcome
 * reaches the gateway; a client's own `fal_webhook` (already checked against WEBHOOK_HOSTS) never
 * goes to fal and is handed to the client webhooks instead.
 */
export default fp<{ config: Config }>(async function submitWebhook (fastify, { config }) {
  const checkWebhook = createWebhookCheck(config.webhookHosts, { allowLoopbackHttp: config.clientWebhooks.allowLoopback })
  const receiver = config.falWebhooks.enabled ? `${config.publicUrl as string}/webhooks/fal` : undefined

  fastify.decorate('submitWebhook', {
    resolve (requested: string | undefined) {
      const clientWebhook = requested === undefined ? undefined : checkWebhook(requested)
      if (receiver === undefined) return { clientWebhook, falWebhook: clientWebhook }
      if (clientWebhook !== undefined && !fastify.clientWebhooks.enabled) throw new ClientWebhooksDisabled()
      return { clientWebhook, falWebhook: receiver }
    },
    async accepted (request: FastifyRequest, requestId: string, clientWebhook: string | undefined) {
      if (receiver === undefined || clientWebhook === undefined) return
      const id = requestId.toLowerCase()
      try {
        await fastify.clientWebhooks.expect(id, request.client.id, clientWebhook)
        // fal's webhook may have landed before the URL was remembered: hand it over now (idempotent).
        const outcome = await fastify.outcomes.get(id)
        if (outcome !== undefined) await fastify.clientWebhooks.outcomeArrived(outcome)
      } catch (error) {
        // The job is the client's already; failing its submit now would only lose it its request id.
        request.log.error({ err: error }, "could not remember the client's webhook: it will not be delivered")
      }
    }
  })
}, { name: 'submit-webhook', dependencies: ['outcomes', 'client-webhooks'] })
