import type { RedisConnection } from '../../redis/redis-client.js'
import { StoreUnavailable } from '../../errors/gateway-errors.js'
import { MAX_DEAD_LETTERS, type ClientDelivery, type DeliveryQueue } from './delivery-queue.js'

// Key layout (prefix P); every key carries the hash tag {cw}, so each script also runs on Redis
// Cluster (the whole queue lives on one slot):
//   P cw:{cw}:target:<request>  JSON target, expiring      P cw:{cw}:jobs  hash id → JSON delivery
//   P cw:{cw}:due  zset id → due (ms; a claim leases)      P cw:{cw}:dead  zset id → failedAt

// KEYS: target, jobs, due. ARGV: id, body, now → 1 queued, 0 nothing expected (or already queued)
const HAND_OVER = `
local target = redis.call('GET', KEYS[1])
if not target then return 0 end
redis.call('DEL', KEYS[1])
local delivery = cjson.decode(target)
delivery.id = ARGV[1]
delivery.body = ARGV[2]
delivery.attempts = 0
delivery.createdAt = tonumber(ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(delivery))
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
return 1
`

// KEYS: due, jobs. ARGV: now, lease ms, max → JSON deliveries, each leased
const CLAIM = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local job = redis.call('HGET', KEYS[2], id)
  if job then
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), id)
    table.insert(out, job)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
`

// KEYS: due, jobs. ARGV: id
const SUCCEEDED = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
`

// KEYS: due, jobs, dead. ARGV: id, JSON delivery, retryAt ('' = give up), now, max dead letters
const FAILED = `
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
  return 1
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if excess > 0 then
  for _, old in ipairs(redis.call('ZRANGE', KEYS[3], 0, excess - 1)) do
    redis.call('ZREM', KEYS[3], old)
    redis.call('HDEL', KEYS[2], old)
  end
end
return 0
`

// KEYS: due, jobs, dead. ARGV: id, now → 1 requeued, 0 no such dead letter
const REPLAY = `
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then return 0 end
local job = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if not job then return 0 end
local delivery = cjson.decode(job)
delivery.attempts = 0
delivery.failedAt = nil
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(delivery))
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
return 1
`

type Arg = string | number
interface ScriptCommands {
  falgwCwHandOver (...args: Arg[]): Promise<number>
  falgwCwClaim (...args: Arg[]): Promise<string[]>
  falgwCwSucceeded (...args: Arg[]): Promise<number>
  falgwCwFailed (...args: Arg[]): Promise<number>
  falgwCwReplay (...args: Arg[]): Promise<number>
}

/** Deliveries in Redis: durable across restarts (as durable as the Redis), shared by replicas. */
export function createRedisDeliveryQueue (client: RedisConnection, prefix = 'falgw:'): DeliveryQueue {
  client.defineCommand('falgwCwHandOver', { numberOfKeys: 3, lua: HAND_OVER })
  client.defineCommand('falgwCwClaim', { numberOfKeys: 2, lua: CLAIM })
  client.defineCommand('falgwCwSucceeded', { numberOfKeys: 2, lua: SUCCEEDED })
  client.defineCommand('falgwCwFailed', { numberOfKeys: 3, lua: FAILED })
  client.defineCommand('falgwCwReplay', { numberOfKeys: 3, lua: REPLAY })
  const redis = client as RedisConnection & ScriptCommands
  const base = `${prefix}cw:{cw}:`
  const [jobs, due, dead] = [`${base}jobs`, `${base}due`, `${base}dead`]
  const targetKey = (requestId: string): string => `${base}target:${requestId}`

  async function call<T> (command: () => Promise<T>): Promise<T> {
    try {
      return await command()
    } catch (error) {
      throw new StoreUnavailable({ cause: error })
    }
  }

  return {
    async expect (target, ttlMs) {
      await call(() => redis.set(targetKey(target.requestId), JSON.stringify(target), 'PX', ttlMs))
    },
    async handOver (requestId, body, now = Date.now()) {
      return await call(() => redis.falgwCwHandOver(targetKey(requestId), jobs, due, requestId, body, now)) === 1
    },
    async claim (now, leaseMs, max) {
      const claimed = await call(() => redis.falgwCwClaim(due, jobs, now, leaseMs, max))
      return claimed.map(text => JSON.parse(text) as ClientDelivery)
    },
    async succeeded (id) {
      await call(() => redis.falgwCwSucceeded(due, jobs, id))
    },
    async failed (delivery, retryAt, now = Date.now()) {
      const stored = retryAt === undefined ? { ...delivery, failedAt: now } : delivery
      await call(() => redis.falgwCwFailed(due, jobs, dead, delivery.id, JSON.stringify(stored), retryAt ?? '', now, MAX_DEAD_LETTERS))
    },
    async deadLetters (limit) {
      const ids = await call(() => redis.zrevrange(dead, 0, limit - 1))
      if (ids.length === 0) return []
      const texts = await call(() => redis.hmget(jobs, ...ids))
      return texts.flatMap(text => text === null ? [] : [JSON.parse(text) as ClientDelivery])
    },
    async replay (id, now = Date.now()) {
      return await call(() => redis.falgwCwReplay(due, jobs, dead, id, now)) === 1
    }
  }
}
