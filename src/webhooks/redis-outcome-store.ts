import type { RedisConnection } from '../redis/redis-client.js'
import { ByteBoundedCache, utf16Bytes } from '../cache/byte-bounded-cache.js'
import { StoreUnavailable } from '../errors/gateway-errors.js'
import { fits, type OutcomeBounds } from './memory-outcome-store.js'
import { withoutBody, type JobOutcome, type OutcomeStore, type RecordVerdict } from './outcome-store.js'
import { OutcomeWaiters } from './outcome-waiters.js'

export interface RedisOutcomeStoreOptions {
  /** Commands (best made with createRedisClient, so they fail fast while Redis is away). */
  client: RedisConnection
  /** A connection of its own: in subscriber mode it can run nothing else. Closed with the store. */
  subscriber: RedisConnection
  bounds: OutcomeBounds
  prefix?: string
  onError?: (error: unknown) => void
}

// One decision, atomically: a replayed delivery changes nothing; the first outcome of a job is
// kept (within the cache bounds) and announced; a later one is acknowledged and dropped.
// Both keys carry the request id as hash tag, so this also runs on Redis Cluster.
// KEYS: seen (request id + timestamp), outcome. ARGV: replay window ms, outcome text, ttl ms,
// channel, announcement. → 'replayed' | 'known' | 'recorded'
const RECORD_OUTCOME = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return 'replayed' end
if redis.call('EXISTS', KEYS[2]) == 1 then return 'known' end
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 'recorded'
`

interface ScriptCommands {
  falgwRecordOutcome (...args: Array<string | number>): Promise<RecordVerdict>
}

/**
 * Outcomes shared by every replica: kept in Redis, announced on a pub/sub channel. Each replica
 * also keeps the outcomes it has read (they never change), within the same bounds. An announcement
 * carries no body: a replica with someone waiting reads the outcome once.
 */
export function createRedisOutcomeStore ({ client, subscriber, bounds, prefix = 'falgw:', onError }: RedisOutcomeStoreOptions): OutcomeStore {
  client.defineCommand('falgwRecordOutcome', { numberOfKeys: 2, lua: RECORD_OUTCOME })
  const redis = client as RedisConnection & ScriptCommands
  const channel = `${prefix}outcomes`
  const outcomeKey = (requestId: string): string => `${prefix}outcome:{${requestId}}`
  const seenKey = (requestId: string, timestamp: string): string => `${prefix}outcome:{${requestId}}:seen:${timestamp}`
  const local = new ByteBoundedCache<string>(bounds.maxBytes, utf16Bytes)
  const waiters = new OutcomeWaiters()
  const keepLocally = (outcome: JobOutcome): void => { local.set(outcome.requestId, JSON.stringify(outcome), bounds.ttlMs) }

  async function get (requestId: string): Promise<JobOutcome | undefined> {
    const cached = local.get(requestId)
    if (cached !== undefined) return JSON.parse(cached) as JobOutcome
    let text: string | null
    try {
      text = await client.get(outcomeKey(requestId))
    } catch (error) {
      throw new StoreUnavailable({ cause: error })
    }
    if (text === null) return undefined
    const outcome = JSON.parse(text) as JobOutcome
    keepLocally(outcome)
    return outcome
  }

  /** Someone here waits on it: read the whole outcome (the announcement is only its status). */
  function tellWaiters (announced: JobOutcome): void {
    if (!waiters.has(announced.requestId)) return
    get(announced.requestId).then(
      outcome => { waiters.settle(outcome ?? announced) },
      (error: unknown) => {
        onError?.(error)
        waiters.settle(announced)
      })
  }

  // Announcements sent while the subscriber was away are lost: on every (re)connection, look up
  // what the waiters here are waiting on.
  const onReady = (): void => {
    subscriber.subscribe(channel).catch((error: unknown) => onError?.(error))
    for (const requestId of waiters.requestIds) {
      get(requestId).then(outcome => { if (outcome !== undefined) waiters.settle(outcome) }, (error: unknown) => onError?.(error))
    }
  }
  subscriber.on('ready', onReady)
  if (subscriber.status === 'ready') onReady()
  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return
    try {
      tellWaiters(JSON.parse(message) as JobOutcome)
    } catch (error) {
      onError?.(error)
    }
  })

  return {
    async record (outcome, { timestamp, replayWindowMs }) {
      const full = JSON.stringify(outcome)
      const kept = fits(full, bounds.maxBytes) ? full : JSON.stringify(withoutBody(outcome))
      const ttl = bounds.maxBytes > 0 ? bounds.ttlMs : 0
      let verdict: RecordVerdict
      try {
        verdict = await redis.falgwRecordOutcome(seenKey(outcome.requestId, timestamp), outcomeKey(outcome.requestId),
          replayWindowMs, kept, ttl, channel, JSON.stringify(withoutBody(outcome)))
      } catch (error) {
        throw new StoreUnavailable({ cause: error })
      }
      return verdict
    },
    get,
    async wait (requestId, signal) {
      // Listen first, then look: an announcement between the two is not missed.
      const announced = waiters.wait(requestId, signal)
      get(requestId).then(outcome => { if (outcome !== undefined) waiters.settle(outcome) }, (error: unknown) => onError?.(error))
      return await announced
    },
    async close () {
      subscriber.off('ready', onReady)
      subscriber.disconnect()
    }
  }
}
