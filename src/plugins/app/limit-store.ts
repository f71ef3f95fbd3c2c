import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import type { Config } from '../../config.js'
import type { LimitStore } from '../../limits/limit-store.js'
import { createMemoryLimitStore } from '../../limits/memory-store.js'
import { createRedisLimitStore } from '../../limits/redis-store.js'
import { createRedisClient, waitForRedis } from '../../limits/redis-client.js'
import { createFallbackStore } from '../../limits/fallback-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Jobs in flight, quotas and ownership: this node's memory, or Redis shared by replicas. */
    limitStore: LimitStore
    /** The Redis connection when REDIS_URL is set (rate-limit counters share it). */
    redis: Redis | undefined
  }
}

const STARTUP_WAIT_MS = 3000

/** Chooses and owns the store; Redis is closed with the app. */
export default fp<{ config: Config }>(async function limitStore (fastify, { config }) {
  if (config.redis === undefined) {
    fastify.decorate('redis', undefined)
    fastify.decorate('limitStore', createMemoryLimitStore())
    return
  }
  const log = fastify.log.child({ component: 'redis' })
  let lastError = 0
  const redis = createRedisClient(config.redis.url, {
    commandTimeoutMs: config.redis.commandTimeoutMs,
    onError: (err) => {
      // One line per outage second, not one per reconnect attempt.
      if (Date.now() - lastError > 1000) log.warn({ err: { message: err.message } }, 'redis unreachable')
      lastError = Date.now()
    }
  })
  redis.on('ready', () => { log.info('redis ready') })
  // Without an offline queue every command fails until the connection is up: wait for it
  // (boundedly) so a fresh node does not answer 503 to its first requests while /readyz says ready.
  await waitForRedis(redis, STARTUP_WAIT_MS).catch(() => { log.warn('redis not reachable at start-up; the fail mode applies until it is') })
  const shared = createRedisLimitStore({ client: redis })
  const store = config.redis.failMode === 'open'
    ? createFallbackStore(shared, createMemoryLimitStore(), () => { log.warn('redis unreachable: counting on this node (REDIS_FAIL_MODE=open)') })
    : shared
  fastify.decorate('redis', redis)
  fastify.decorate('limitStore', store)
  fastify.addHook('onClose', async () => {
    await store.close()
    redis.disconnect()
  })
}, { name: 'limit-store' })
