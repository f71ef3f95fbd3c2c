import fp from 'fastify-plugin'
import type { Config } from '../config.js'
import { createRedisClient } from '../redis/redis-client.js'
import { createWebhookMetrics, type WebhookMetrics } from '../metrics/webhook-metrics.js'
import { createMemoryOutcomeStore } from './memory-outcome-store.js'
import type { OutcomeStore } from './outcome-store.js'
import { createRedisOutcomeStore } from './redis-outcome-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Jobs' outcomes as fal's webhooks told them: one per job, shared and announced across replicas. */
    outcomes: OutcomeStore
    webhookMetrics: WebhookMetrics
  }
}

/**
 * The outcome store: in Redis (plus a subscriber connection of its own) when one is configured, in
 * this node's memory otherwise; bounded like completed polls (POLL_CACHE_MAX_BYTES, POLL_COMPLETED_TTL_MS).
 */
export default fp<{ config: Config }>(async function outcomes (fastify, { config }) {
  fastify.decorate('webhookMetrics', createWebhookMetrics(fastify.metrics.registry))
  const bounds = { maxBytes: config.pollCache.maxBytes, ttlMs: config.pollCache.completedTtlMs }
  const redis = fastify.redis
  if (config.redis === undefined || redis === undefined) {
    fastify.decorate('outcomes', createMemoryOutcomeStore(bounds))
    return
  }
  const log = fastify.log.child({ component: 'outcomes' })
  let lastError = 0
  const onError = (error: unknown): void => {
    // One line per outage second, not one per reconnect attempt.
    if (Date.now() - lastError > 1000) log.warn({ err: { message: (error as Error).message } }, 'outcome store: redis unreachable')
    lastError = Date.now()
  }
  const subscriber = createRedisClient(config.redis.topology, { commandTimeoutMs: config.redis.commandTimeoutMs, onError, connectionName: 'fal-gateway-outcomes' })
  const store = createRedisOutcomeStore({ client: redis, subscriber, bounds, onError })
  fastify.decorate('outcomes', store)
  fastify.addHook('onClose', async () => { await store.close() })
}, { name: 'outcomes', dependencies: ['redis', 'metrics'] })
