import type { Redis } from 'ioredis'
import { StoreUnavailable } from '../errors/gateway-errors.js'
import type { LimitRefusal, LimitStore, ReserveJobResult } from './limit-store.js'
import { CANCEL_RESERVATION, CONFIRM_JOB, RELEASE_JOB, RESERVE_JOB } from './redis-scripts.js'
import { nextUtcMidnight, utcDay } from './utc-day.js'

export interface RedisLimitStoreOptions {
  /** Best made with createRedisClient, so that calls fail fast while Redis is away. */
  client: Redis
  /** Namespace for every key (default `falgw:`). */
  prefix?: string
}

type Arg = string | number
interface ScriptCommands {
  falgwReserveJob (...args: Arg[]): Promise<[number, string, number, number, number]>
  falgwConfirmJob (...args: Arg[]): Promise<number>
  falgwCancelReservation (...args: Arg[]): Promise<number>
  falgwReleaseJob (...args: Arg[]): Promise<number>
}

// Yesterday's counter outlives midnight by a day so late refunds and clock skew find it.
const QUOTA_GRACE_MS = 86_400_000

/**
 * Limits shared by every replica using the same Redis. The client is not closed by `close()`:
 * it belongs to whoever created it (it is typically shared with the rate limiter).
 */
export function createRedisLimitStore ({ client, prefix = 'falgw:' }: RedisLimitStoreOptions): LimitStore {
  client.defineCommand('falgwReserveJob', { numberOfKeys: 3, lua: RESERVE_JOB })
  client.defineCommand('falgwConfirmJob', { numberOfKeys: 3, lua: CONFIRM_JOB })
  client.defineCommand('falgwCancelReservation', { numberOfKeys: 2, lua: CANCEL_RESERVATION })
  client.defineCommand('falgwReleaseJob', { numberOfKeys: 1, lua: RELEASE_JOB })
  const redis = client as unknown as Redis & ScriptCommands

  const inflightKey = (clientId: string) => `${prefix}inflight:${clientId}`
  const reservationsKey = (clientId: string) => `${prefix}reservations:${clientId}`
  const quotaPrefix = (clientId: string) => `${prefix}quota:${clientId}:`
  const ownerKey = (requestId: string) => `${prefix}owner:${requestId}`

  return {
    async reserveJob ({ clientId, reservationId, maxInFlight, dailyQuota, ttlMs, now = Date.now() }) {
      const day = utcDay(now)
      const midnight = nextUtcMidnight(now)
      const [admitted, reason, retryAfterMs, inFlight, quotaUsed] = await call(() => redis.falgwReserveJob(
        inflightKey(clientId), reservationsKey(clientId), quotaPrefix(clientId) + day,
        now, maxInFlight, dailyQuota, ttlMs, reservationId, day, midnight, midnight + QUOTA_GRACE_MS))
      const result: ReserveJobResult = admitted === 1
        ? { ok: true, inFlight, quotaUsed }
        : { ok: false, reason: reason as LimitRefusal, retryAfterMs, inFlight, quotaUsed }
      return result
    },

    async confirmJob ({ clientId, reservationId, requestId, ownershipTtlMs, jobTtlMs, now = Date.now() }) {
      await call(() => redis.falgwConfirmJob(
        inflightKey(clientId), reservationsKey(clientId), ownerKey(requestId),
        reservationId, requestId, clientId, now + jobTtlMs, now + ownershipTtlMs))
    },

    async cancelReservation ({ clientId, reservationId, refundQuota, now = Date.now() }) {
      await call(() => redis.falgwCancelReservation(
        inflightKey(clientId), reservationsKey(clientId),
        reservationId, refundQuota ? 1 : 0, now, quotaPrefix(clientId)))
    },

    async releaseJob ({ requestId }) {
      await call(() => redis.falgwReleaseJob(ownerKey(requestId), `${prefix}inflight:`, requestId))
    },

    async ownerOf (requestId) {
      const owner = await call(() => redis.get(ownerKey(requestId)))
      return owner ?? undefined
    },

    async close () {}
  }
}

async function call<T> (command: () => Promise<T>): Promise<T> {
  try {
    return await command()
  } catch (cause) {
    throw new StoreUnavailable({ cause })
  }
}
