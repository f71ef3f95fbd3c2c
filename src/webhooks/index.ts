import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import outcomes from './outcomes-plugin.js'
import clientWebhooks from './client/client-webhooks-plugin.js'
import falReceiver from './fal-receiver.js'
import outcomeEvents from './events-route.js'

/**
 * Webhooks: the outcome store, clients' webhooks, `/events`, and — with FAL_WEBHOOKS=on — the
 * receiver of fal's own (`POST /webhooks/fal`).
 */
export default fp<{ config: Config }>(async function webhooks (fastify, { config }) {
  await fastify.register(outcomes, { config })
  await fastify.register(clientWebhooks, { config })
  if (config.falWebhooks.enabled) await fastify.register(falReceiver, { config })
  await fastify.register(outcomeEvents, { config })
}, { name: 'webhooks', dependencies: ['redis', 'limit-store', 'admission', 'metrics', 'admin-auth'] })
