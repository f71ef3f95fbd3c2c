import type { RedisConnection } from '../redis/redis-client.js'
import type { Departure } from '../upstream/departure.js'
import type { FalJson, FalUpstream } from '../upstream/fal-upstream.js'
import { ByteBoundedCache, utf16Bytes } from './byte-bounded-cache.js'
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

/** An answer in this node's memory, with what its text would cost there. */
interface KeptAnswer {
  answer: FalJson
  bytes: number
}

/** The polls this cache answers. */
export type FalPolls = Pick<FalUpstream, 'status' | 'result'>

/**
 * Status and result polls with fewer upstream calls: concurrent identical polls share one call;
 * a completed job's status and result never change, so they are kept (bounded in bytes, and in
 * Redis when configured) and repeated fetches cost fal nothing; a pending status may be reused
 * for a short freshness window. Only 200/202 answers are cached; failures never are.
 */
export function createCachedReader (reader: FalPolls, options: PollCacheOptions): FalPolls {
  // Answers are kept parsed (and frozen, since every hit shares them): a hit costs no JSON.parse.
  const memory = new ByteBoundedCache<KeptAnswer>(options.maxBytes, kept => kept.bytes)
  const shared = createSingleFlight<FalJson>()
  const enabled = options.maxBytes > 0

  function keep (key: string, answer: FalJson, text: string, ttlMs: number): FalJson {
    const frozen = deepFreeze(answer)
    memory.set(key, { answer: frozen, bytes: utf16Bytes(text) }, ttlMs)
    return frozen
  }

  async function recall (key: string): Promise<FalJson | undefined> {
    const kept = memory.get(key)
    if (kept !== undefined || options.redis === undefined) return kept?.answer
    const text = await options.redis.get(REDIS_PREFIX + key).catch((error: unknown) => {
      options.onRedisError?.(error)
      return null
    })
    return text === null ? undefined : keep(key, JSON.parse(text) as FalJson, text, options.completedTtlMs)
  }

  function remember (key: string, answer: FalJson, completed: boolean): FalJson {
    const ttl = completed ? options.completedTtlMs : options.pendingFreshMs
    if (!enabled || ttl <= 0) return answer
    const text = JSON.stringify(answer)
    if (completed && options.redis !== undefined) {
      options.redis.set(REDIS_PREFIX + key, text, 'PX', ttl).catch((error: unknown) => options.onRedisError?.(error))
    }
    return keep(key, answer, text, ttl)
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
      return remember(key, answer, isCompleted(answer))
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

/** Freezes `value` and everything in it, so a cached answer shared by many polls cannot be changed by one. */
function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const inner of Object.values(value)) deepFreeze(inner)
  }
  return value
}
