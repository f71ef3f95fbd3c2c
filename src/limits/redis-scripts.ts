// Lua run atomically by Redis. Key layout (prefix P, client C):
//   P {C}:inflight      sorted set of `r:<reservationId>` / `j:<requestId>` scored by expiry (epoch ms)
//   P {C}:reservations  hash reservationId → UTC day it was counted on (for refunds)
//   P {C}:quota:<day>   submits counted that UTC day
//   P owner:<request>   client id owning a fal request (a plain key, no script touches it)
// Every script touches one client's keys only, and they share the hash tag {C}: on Redis Cluster
// each client's counts live in one slot (clients spread over the shards). Ownership is keyed by
// request, since it is looked up by request id alone: writing it and releasing a job are two
// steps (see redis-store.ts) instead of one script over two slots. No key is built in a script.

// Shared tail: keep the sorted set and its hash alive as long as their latest slot.
const EXTEND_EXPIRY = `
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')[2]
if last then
  redis.call('PEXPIREAT', KEYS[1], last)
  redis.call('PEXPIREAT', KEYS[2], last)
end
`

// KEYS: inflight, reservations, quota(today)
// ARGV: now, maxInFlight, dailyQuota, ttlMs, reservationId, day, nextMidnight, quotaExpireAt
// → { admitted 0|1, reason, retryAfterMs, inFlight, quotaUsed }
export const RESERVE_JOB = `
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
for _, member in ipairs(expired) do
  if string.sub(member, 1, 2) == 'r:' then redis.call('HDEL', KEYS[2], string.sub(member, 3)) end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local inFlight = redis.call('ZCARD', KEYS[1])
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
local untilMidnight = tonumber(ARGV[7]) - now
if used >= tonumber(ARGV[3]) then
  return { 0, 'QUOTA_EXCEEDED', untilMidnight, inFlight, used }
end
if inFlight >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
  local retryAfter = untilMidnight
  if first then retryAfter = tonumber(first) - now end
  return { 0, 'CONCURRENCY_LIMIT', retryAfter, inFlight, used }
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), 'r:' .. ARGV[5])
redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
used = redis.call('INCR', KEYS[3])
redis.call('PEXPIREAT', KEYS[3], ARGV[8])
${EXTEND_EXPIRY}
return { 1, '', 0, inFlight + 1, used }
`

// The reservation's slot becomes the job's (its owner is written just before, apart).
// KEYS: inflight, reservations. ARGV: reservationId, requestId, jobExpiresAt
export const CONFIRM_JOB = `
redis.call('ZREM', KEYS[1], 'r:' .. ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[3], 'j:' .. ARGV[2])
${EXTEND_EXPIRY}
return 1
`

// KEYS: inflight, reservations, quota of the day the caller read for this reservation
// ARGV: reservationId, refund 0|1, now, that day
export const CANCEL_RESERVATION = `
local member = 'r:' .. ARGV[1]
local score = redis.call('ZSCORE', KEYS[1], member)
local day = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], member)
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[2] == '1' and score and day == ARGV[4] and tonumber(score) > tonumber(ARGV[3]) then
  if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECR', KEYS[3]) end
end
return 1
`
