import type { Redis } from 'ioredis'
import type { Departure } from '../upstream/departure.js'
import type { QueueReader, UpstreamJson } from '../upstream/queue-reader.js'
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
  redis?: Redis
  onRedisError?: (error: unknown) => void
}

const REDIS_PREFIX = 'falgw:cache:'

/**
 * Status and result polls with fewer upstream calls: concurrent identical polls share one call;
 * a completed job's status and result never change, so they are kept (bounded in bytes, and in
 * Redis when configured) and repeated fetches cost fal nothing; a pending status may be reused
 * for a short freshness window. Only 200/202 answers are cached; failures never are.
 */
export function createCachedReader (reader: QueueReader, options: PollCacheOptions): QueueReader {
  const memory = new ByteBoundedCache(options.maxBytes)
  const shared = createSingleFlight<UpstreamJson>()
  const enabled = options.maxBytes > 0

  async function recall (key: string): Promise<UpstreamJson | undefined> {
    let text = memory.get(key)
    if (text === undefined && options.redis !== undefined) {
      text = await options.redis.get(REDIS_PREFIX + key).catch((error: unknown) => {
        options.onRedisError?.(error)
        return null
      }) ?? undefined
      if (text !== undefined) memory.set(key, text, options.completedTtlMs)
    }
    return text === undefined ? undefined : JSON.parse(text) as UpstreamJson
  }

  function remember (key: string, answer: UpstreamJson, completed: boolean): void {
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
    isCompleted: (answer: UpstreamJson) => boolean,
    fetch: (signal: Departure) => Promise<UpstreamJson>,
    signal?: Departure
  ): Promise<UpstreamJson> {
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
    openStatusStream: reader.openStatusStream,
    status (appId, requestId, logs, signal) {
      return cached(`s:${appId}:${requestId}:${logs ? 1 : 0}`, isCompletedStatus, shared => reader.status(appId, requestId, logs, shared), signal)
    },
    result (appId, requestId, signal) {
      return cached(`r:${appId}:${requestId}`, answer => answer.statusCode === 200, shared => reader.result(appId, requestId, shared), signal)
    }
  }
}

function isCompletedStatus (answer: UpstreamJson): boolean {
  return answer.statusCode === 200 && (answer.body as { status?: unknown }).status === 'COMPLETED'
}
