// Lua run atomically by Redis. Key layout (prefix P, client C):
//   P inflight:C      sorted set of `r:<reservationId>` / `j:<requestId>` scored by expiry (epoch ms)
//   P reservations:C  hash reservationId → UTC day it was counted on (for refunds)
//   P quota:C:<day>   submits counted that UTC day
//   P owner:<request> client id owning a fal request
// cancel and release build a key from a stored value, so these scripts need a standalone Redis
// (or a primary with replicas), not Redis Cluster.

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

// KEYS: inflight, reservations, owner
// ARGV: reservationId, requestId, clientId, jobExpiresAt, ownershipExpiresAt
export const CONFIRM_JOB = `
redis.call('ZREM', KEYS[1], 'r:' .. ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[4], 'j:' .. ARGV[2])
redis.call('SET', KEYS[3], ARGV[3], 'PXAT', ARGV[5])
${EXTEND_EXPIRY}
return 1
`

// KEYS: inflight, reservations
// ARGV: reservationId, refund 0|1, now, quota key prefix (the day is appended)
export const CANCEL_RESERVATION = `
local member = 'r:' .. ARGV[1]
local score = redis.call('ZSCORE', KEYS[1], member)
local day = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[1], member)
redis.call('HDEL', KEYS[2], ARGV[1])
if ARGV[2] == '1' and score and day and tonumber(score) > tonumber(ARGV[3]) then
  local quota = ARGV[4] .. day
  if tonumber(redis.call('GET', quota) or '0') > 0 then redis.call('DECR', quota) end
end
return 1
`

// KEYS: owner. ARGV: inflight key prefix (the owner is appended), requestId
export const RELEASE_JOB = `
local owner = redis.call('GET', KEYS[1])
if owner then redis.call('ZREM', ARGV[1] .. owner, 'j:' .. ARGV[2]) end
return 1
`
