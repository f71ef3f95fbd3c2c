import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import type { LimitStore } from '../../limits/limit-store.js'
import { createMemoryLimitStore } from '../../limits/memory-store.js'
import { createRedisLimitStore } from '../../limits/redis-store.js'
import { createFallbackStore } from '../../limits/fallback-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** Jobs in flight, quotas and ownership: this node's memory, or Redis shared by replicas. */
    limitStore: LimitStore
  }
}

/** Chooses and owns the store: in Redis when there is one (plugins/app/redis.ts), else in memory. */
export default fp<{ config: Config }>(async function limitStore (fastify, { config }) {
  const redis = fastify.redis
  if (redis === undefined || config.redis === undefined) {
    fastify.decorate('limitStore', createMemoryLimitStore())
    return
  }
  const log = fastify.log.child({ component: 'redis' })
  const shared = createRedisLimitStore({ client: redis, replicaAcks: config.redis.replicaAcks })
  const store = config.redis.failMode === 'open'
    ? createFallbackStore(shared, createMemoryLimitStore(), () => { log.warn('redis unreachable: counting on this node (REDIS_FAIL_MODE=open)') })
    : shared
  fastify.decorate('limitStore', store)
  fastify.addHook('onClose', async () => { await store.close() })
}, { name: 'limit-store', dependencies: ['redis'] })
