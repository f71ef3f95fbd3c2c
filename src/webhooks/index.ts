import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import outcomes from './outcomes-plugin.js'
import clientWebhooks from './client/client-webhooks-plugin.js'
import falReceiver from './fal-receiver.js'
import outcomeEvents from './events-route.js'
import submitWebhook from './submit-webhook.js'
import { createOutcomePolls } from './outcome-polls.js'

/**
 * Webhooks: the outcome store, clients' webhooks, `/events`, which webhook fal is asked for at
 * submit, and — with FAL_WEBHOOKS=on — the receiver of fal's own (`POST /webhooks/fal`) and polls
 * answered from the outcomes it records.
 */
export default fp<{ config: Config }>(async function webhooks (fastify, { config }) {
  await fastify.register(outcomes, { config })
  await fastify.register(clientWebhooks, { config })
  await fastify.register(submitWebhook, { config })
  if (config.falWebhooks.enabled) {
    await fastify.register(falReceiver, { config })
    // Layered over the cached polls before any route takes them, so both routes ask the outcome first.
    const { fal } = fastify.upstream
    const metrics = fastify.webhookMetrics
    let warnedAt = 0
    fastify.upstream.fal = {
      ...fal,
      ...createOutcomePolls(fal, {
        outcomes: fastify.outcomes,
        queueBase: config.falQueueUrl,
        onAnswered: operation => { metrics.pollsAnsweredLocally.inc({ operation }) },
        onStoreError: error => {
          // One line per outage second, not one per poll.
          if (Date.now() - warnedAt < 1000) return
          warnedAt = Date.now()
          fastify.log.warn({ err: error }, 'outcome store unreachable: polls ask fal')
        }
      })
    }
  }
  await fastify.register(outcomeEvents, { config })
}, { name: 'webhooks', dependencies: ['redis', 'limit-store', 'admission', 'metrics', 'admin-auth', 'upstream'] })
