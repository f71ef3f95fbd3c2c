import type { RedisConnection } from '../redis/redis-client.js'
import { StoreUnavailable } from '../errors/gateway-errors.js'
import type { LimitRefusal, LimitStore, ReserveJobResult } from './limit-store.js'
import { CANCEL_RESERVATION, CONFIRM_JOB, RESERVE_JOB } from './redis-scripts.js'
import { nextUtcMidnight, utcDay } from './utc-day.js'

export interface RedisLimitStoreOptions {
  /** Best made with createRedisClient, so that calls fail fast while Redis is away. */
  client: RedisConnection
  /** Namespace for every key (default `falgw:`). */
  prefix?: string
}

type Arg = string | number
interface ScriptCommands {
  falgwReserveJob (...args: Arg[]): Promise<[number, string, number, number, number]>
  falgwConfirmJob (...args: Arg[]): Promise<number>
  falgwCancelReservation (...args: Arg[]): Promise<number>
}

// Yesterday's counter outlives midnight by a day so late refunds and clock skew find it.
const QUOTA_GRACE_MS = 86_400_000

/**
 * Limits shared by every replica using the same Redis. The client is not closed by `close()`:
 * it belongs to whoever created it (it is typically shared with the rate limiter).
 */
export function createRedisLimitStore ({ client, prefix = 'falgw:' }: RedisLimitStoreOptions): LimitStore {
  client.defineCommand('falgwReserveJob', { numberOfKeys: 3, lua: RESERVE_JOB })
  client.defineCommand('falgwConfirmJob', { numberOfKeys: 2, lua: CONFIRM_JOB })
  client.defineCommand('falgwCancelReservation', { numberOfKeys: 3, lua: CANCEL_RESERVATION })
  const redis = client as unknown as RedisConnection & ScriptCommands

  // The client's hash tag: its keys share one Cluster slot (see redis-scripts.ts).
  const inflightKey = (clientId: string) => `${prefix}{${clientId}}:inflight`
  const reservationsKey = (clientId: string) => `${prefix}{${clientId}}:reservations`
  const quotaKey = (clientId: string, day: string) => `${prefix}{${clientId}}:quota:${day}`
  const ownerKey = (requestId: string) => `${prefix}owner:${requestId}`

  return {
    async reserveJob ({ clientId, reservationId, maxInFlight, dailyQuota, ttlMs, now = Date.now() }) {
      const day = utcDay(now)
      const midnight = nextUtcMidnight(now)
      const [admitted, reason, retryAfterMs, inFlight, quotaUsed] = await call(() => redis.falgwReserveJob(
        inflightKey(clientId), reservationsKey(clientId), quotaKey(clientId, day),
        now, maxInFlight, dailyQuota, ttlMs, reservationId, day, midnight, midnight + QUOTA_GRACE_MS))
      const result: ReserveJobResult = admitted === 1
        ? { ok: true, inFlight, quotaUsed }
        : { ok: false, reason: reason as LimitRefusal, retryAfterMs, inFlight, quotaUsed }
      return result
    },

    // Two steps, owner first: the owner is keyed by request and the slot by client (two Cluster
    // slots). Should the second fail, the job is already reachable by its owner and the
    // reservation still holds the slot until it lapses; a repeat (the write-ahead recovery) is safe.
    async confirmJob ({ clientId, reservationId, requestId, ownershipTtlMs, jobTtlMs, now = Date.now() }) {
      await call(() => redis.set(ownerKey(requestId), clientId, 'PXAT', now + ownershipTtlMs))
      await call(() => redis.falgwConfirmJob(
        inflightKey(clientId), reservationsKey(clientId),
        reservationId, requestId, now + jobTtlMs))
    },

    // The day the reservation was counted on names the quota key, so it is read first; the
    // script checks it has not changed.
    async cancelReservation ({ clientId, reservationId, refundQuota, now = Date.now() }) {
      const day = await call(() => redis.hget(reservationsKey(clientId), reservationId)) ?? utcDay(now)
      await call(() => redis.falgwCancelReservation(
        inflightKey(clientId), reservationsKey(clientId), quotaKey(clientId, day),
        reservationId, refundQuota ? 1 : 0, now, day))
    },

    // The owner names the client whose slot the job holds: looked up first (another slot).
    async releaseJob ({ requestId }) {
      const owner = await call(() => redis.get(ownerKey(requestId)))
      if (owner !== null) await call(() => redis.zrem(inflightKey(owner), `j:${requestId}`))
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
