import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import type { LimitStore } from '../../limits/limit-store.js'
import { createMemoryLimitStore } from '../../limits/memory-store.js'
import { createRedisLimitStore } from '../../limits/redis-store.js'
import { createFallbackStore } from '../../limits/fallback-store.js'
import { withOwnerCache } from '../../limits/owner-cache.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Jobs in flight, quotas and ownership: this node's memory, or Redis shared by replicas. */
    limitStore: LimitStore
  }
}

/**
 * Owners this node remembers, so a job's polls do not each ask Redis who owns it: about 200 bytes
 * each, 20 MB at most. A minute at most past an ownership's own expiry (OWNERSHIP_TTL_MS, a day
 * by default) is the price.
 */
const OWNER_CACHE = { maxEntries: 100_000, ttlMs: 60_000 }

/** Chooses and owns the store: in Redis when there is one (plugins/app/redis.ts), else in memory. */
export default fp<{ config: Config }>(async function limitStore (fastify, { config }) {
  const redis = fastify.redis
  if (redis === undefined || config.redis === undefined) {
    fastify.decorate('limitStore', createMemoryLimitStore())
    return
  }
  const log = fastify.log.child({ component: 'redis' })
  const shared = createRedisLimitStore({ client: redis, replicaAcks: config.redis.replicaAcks })
  const store = withOwnerCache(config.redis.failMode === 'open'
    ? createFallbackStore(shared, createMemoryLimitStore(), () => { log.warn('redis unreachable: counting on this node (REDIS_FAIL_MODE=open)') })
    : shared, OWNER_CACHE)
  fastify.decorate('limitStore', store)
  fastify.addHook('onClose', async () => { await store.close() })
}, { name: 'limit-store', dependencies: ['redis'] })
