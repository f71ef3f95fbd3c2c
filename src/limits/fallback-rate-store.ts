import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor, RateLimitOptions } from '@fastify/rate-limit'
import type { RedisConnection } from '../redis/redis-client.js'
import { createRequire } from 'node:module'

// The plugin's own stores are not part of its typed exports; they are its public files.
const require = createRequire(import.meta.url)
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (...args: unknown[]) => FastifyRateLimitStore
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (...args: unknown[]) => FastifyRateLimitStore

type Store = FastifyRateLimitStore & { child: (options: RateLimitOptions & { routeInfo: unknown }) => Store }

/**
 * REDIS_FAIL_MODE=open for rate limits: counts in Redis, and while Redis cannot answer, in this
 * node's memory instead, so a replica still limits each client on its own during an outage.
 */
export function fallbackRateStore (redis: RedisConnection, nameSpace: string, localKeys: number, onFallback: (error: Error) => void): FastifyRateLimitStoreCtor {
  class FallbackRateStore {
    constructor (private readonly primary: Store, private readonly local: Store) {}

    incr (key: string, callback: (error: Error | null, result?: { current: number, ttl: number }) => void, timeWindow: number, max: number): void {
      this.primary.incr(key, (error, result) => {
        if (error === null) {
          callback(null, result)
          return
        }
        onFallback(error)
        this.local.incr(key, callback, timeWindow, max)
      }, timeWindow, max)
    }

    child (options: RateLimitOptions & { routeInfo: unknown }): FallbackRateStore {
      return new FallbackRateStore(this.primary.child(options), this.local.child(options))
    }
  }

  return class extends FallbackRateStore {
    constructor (options: { continueExceeding?: boolean, exponentialBackoff?: boolean }) {
      super(
        new RedisStore(options.continueExceeding, options.exponentialBackoff, redis, nameSpace) as Store,
        new LocalStore(options.continueExceeding, options.exponentialBackoff, localKeys) as Store
      )
    }
  } as unknown as FastifyRateLimitStoreCtor
}
