import type { RedisConnection } from '../redis/redis-client.js'
import { writeReplicated, type ReplicaAcks } from '../redis/replicated-write.js'
import { StoreUnavailable } from '../errors/gateway-errors.js'
import type { LimitRefusal, LimitStore, ReserveJobResult } from './limit-store.js'
import { CANCEL_RESERVATION, CONFIRM_JOB, RESERVE_JOB } from './redis-scripts.js'
import { nextUtcMidnight, utcDay } from './utc-day.js'

export interface RedisLimitStoreOptions {
  /** Best made with createRedisClient, so that calls fail fast while Redis is away. */
  client: RedisConnection
  /** Namespace for every key (default `falgw:`). */
  prefix?: string
  /**
   * Reservations and ownership count only once this many replicas hold them (WAIT): a failover
   * cannot forget what was admitted. When they do not confirm in time the operation fails
   * (StoreUnavailable), as if Redis were away, and a reservation is given back.
   */
  replicaAcks?: ReplicaAcks
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
export function createRedisLimitStore ({ client, prefix = 'falgw:', replicaAcks }: RedisLimitStoreOptions): LimitStore {
  client.defineCommand('falgwReserveJob', { numberOfKeys: 3, lua: RESERVE_JOB })
  client.defineCommand('falgwConfirmJob', { numberOfKeys: 2, lua: CONFIRM_JOB })
  client.defineCommand('falgwCancelReservation', { numberOfKeys: 3, lua: CANCEL_RESERVATION })
  const redis = client as unknown as RedisConnection & ScriptCommands
  const scripts = (commands: unknown): ScriptCommands => commands as ScriptCommands
  /** A write admission depends on: refused (StoreUnavailable) unless the replicas confirm it. */
  async function admissionWrite<T> (write: Parameters<typeof writeReplicated>[2]): Promise<{ reply: T, replicated: boolean }> {
    return await call(() => writeReplicated<T>(client, replicaAcks, write))
  }

  // The client's hash tag: its keys share one Cluster slot (see redis-scripts.ts).
  const inflightKey = (clientId: string) => `${prefix}{${clientId}}:inflight`
  const reservationsKey = (clientId: string) => `${prefix}{${clientId}}:reservations`
  const quotaKey = (clientId: string, day: string) => `${prefix}{${clientId}}:quota:${day}`
  const ownerKey = (requestId: string) => `${prefix}owner:${requestId}`

  const store: LimitStore = {
    async reserveJob ({ clientId, reservationId, maxInFlight, dailyQuota, ttlMs, now = Date.now() }) {
      const day = utcDay(now)
      const midnight = nextUtcMidnight(now)
      const { reply, replicated } = await admissionWrite<[number, string, number, number, number]>(commands => scripts(commands).falgwReserveJob(
        inflightKey(clientId), reservationsKey(clientId), quotaKey(clientId, day),
        now, maxInFlight, dailyQuota, ttlMs, reservationId, day, midnight, midnight + QUOTA_GRACE_MS))
      const [admitted, reason, retryAfterMs, inFlight, quotaUsed] = reply
      if (admitted === 1 && !replicated) {
        // Counted by the master alone: a failover now would forget it and admit one more.
        await store.cancelReservation({ clientId, reservationId, refundQuota: true, now }).catch(() => {})
        throw new StoreUnavailable({ cause: new Error('no replica confirmed the reservation in time') })
      }
      const result: ReserveJobResult = admitted === 1
        ? { ok: true, inFlight, quotaUsed }
        : { ok: false, reason: reason as LimitRefusal, retryAfterMs, inFlight, quotaUsed }
      return result
    },

    // Two steps, owner first: the owner is keyed by request and the slot by client (two Cluster
    // slots). Should the second fail, the job is already reachable by its owner and the
    // reservation still holds the slot until it lapses; a repeat (the write-ahead recovery) is safe.
    // Unreplicated, it fails: the write-ahead journal writes it again until a replica holds it.
    async confirmJob ({ clientId, reservationId, requestId, ownershipTtlMs, jobTtlMs, now = Date.now() }) {
      const owned = await admissionWrite(commands => commands.set(ownerKey(requestId), clientId, 'PXAT', now + ownershipTtlMs))
      const slot = await admissionWrite(commands => scripts(commands).falgwConfirmJob(
        inflightKey(clientId), reservationsKey(clientId),
        reservationId, requestId, now + jobTtlMs))
      if (!owned.replicated || !slot.replicated) throw new StoreUnavailable({ cause: new Error('no replica confirmed the job\'s owner in time') })
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
  return store
}

async function call<T> (command: () => Promise<T>): Promise<T> {
  try {
    return await command()
  } catch (cause) {
    throw new StoreUnavailable({ cause })
  }
}
