import type { RedisConnection } from '../redis/redis-client.js'
import type { Departure } from '../upstream/departure.js'
import type { FalJson, FalUpstream } from '../upstream/fal-upstream.js'
import { ByteBoundedCache } from './byte-bounded-cache.js'
import { createSingleFlight } from './single-flight.js'

export interface PollCacheOptions {
  /** 0 turns the cache off (coalescing stays on). */
  maxBytes: number
  /** How long a pending status may be served again without asking fal; 0 asks every time. */
  pendingFreshMs: number
  /** How long a completed status or a result is kept. */
  completedTtlMs: number
  /** When set, completed answers are shared by every replica through Redis. */
  redis?: RedisConnection
  onRedisError?: (error: unknown) => void
}

const REDIS_PREFIX = 'falgw:cache:'

/** The polls this cache answers. */
export type FalPolls = Pick<FalUpstream, 'status' | 'result'>

/**
 * Status and result polls with fewer upstream calls: concurrent identical polls share one call;
 * a completed job's status and result never change, so they are kept (bounded in bytes, and in
 * Redis when configured) and repeated fetches cost fal nothing; a pending status may be reused
 * for a short freshness window. Only 200/202 answers are cached; failures never are.
 */
export function createCachedReader (reader: FalPolls, options: PollCacheOptions): FalPolls {
  const memory = new ByteBoundedCache(options.maxBytes)
  const shared = createSingleFlight<FalJson>()
  const enabled = options.maxBytes > 0

  async function recall (key: string): Promise<FalJson | undefined> {
    let text = memory.get(key)
    if (text === undefined && options.redis !== undefined) {
      text = await options.redis.get(REDIS_PREFIX + key).catch((error: unknown) => {
        options.onRedisError?.(error)
        return null
      }) ?? undefined
      if (text !== undefined) memory.set(key, text, options.completedTtlMs)
    }
    return text === undefined ? undefined : JSON.parse(text) as FalJson
  }

  function remember (key: string, answer: FalJson, completed: boolean): void {
    const ttl = completed ? options.completedTtlMs : options.pendingFreshMs
    if (!enabled || ttl <= 0) return
    const text = JSON.stringify(answer)
    memory.set(key, text, ttl)
    if (completed && options.redis !== undefined) {
      options.redis.set(REDIS_PREFIX + key, text, 'PX', ttl).catch((error: unknown) => options.onRedisError?.(error))
    }
  }

  async function cached (
    key: string,
    isCompleted: (answer: FalJson) => boolean,
    fetch: (signal: Departure) => Promise<FalJson>,
    signal?: Departure
  ): Promise<FalJson> {
    // Inside the shared call, so N identical polls pay one cache lookup (and Redis trip) too.
    return await shared(key, async (sharedSignal) => {
      if (enabled) {
        const hit = await recall(key)
        if (hit !== undefined) return hit
      }
      const answer = await fetch(sharedSignal)
      remember(key, answer, isCompleted(answer))
      return answer
    }, signal)
  }

  return {
    status (target, signal) {
      return cached(`s:${target.appId}:${target.requestId}:${target.logs ? 1 : 0}`, isCompletedStatus, shared => reader.status(target, shared), signal)
    },
    result (target, signal) {
      return cached(`r:${target.appId}:${target.requestId}`, answer => answer.statusCode === 200, shared => reader.result(target, shared), signal)
    }
  }
}

function isCompletedStatus (answer: FalJson): boolean {
  return answer.statusCode === 200 && (answer.body as { status?: unknown }).status === 'COMPLETED'
}
