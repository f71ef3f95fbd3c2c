// Lua run atomically by Redis: one script per decision. Every key of every script carries the
// same hash tag (`{spend}` in the default prefix), because the global budget is counted by every
// submit: the client's budgets, the global one, the record and the idempotency key must be
// decided together, so they must live in one slot. On Redis Cluster all spend keys therefore sit
// on one shard (spend does not scale out across shards; a single Redis runs tens of thousands of
// these scripts a second, far beyond the rate at which fal jobs are paid for).
//
// Key layout (prefix P):
//   P r:<reservation>   hash: the write-ahead record (state, client, tier, endpoint, amount,
//                       charged, at, day, month, idem scope, fal request id)
//   P q:<request id>    fal's request id → reservation
//   P i:<scope>         hash: idempotency record (state in-flight|completed|unknown, fingerprint,
//                       reservation, status, type, body)
//   P u:day:<date>      hash: `<subject>|r` reserved and `<subject>|c` charged micro-USD, for
//   P u:month:<month>     subjects global, tier:<t>, client:<id>, model:<endpoint>
//   P expiring          sorted set: reservation → epoch ms at which it is charged by expiry
//   P unconfirmed       sorted set: reservation → epoch ms after which an unconfirmed one is an orphan
//   P ledger            stream: one entry per change of reserved or charged money (Redis ≥ 7.0)
// Scripts that act on an existing record are given its keys by the caller, who reads the
// record's immutable fields (day, month, idem scope) first: no key is built inside a script.

const COUNT = `
local function count(dayKey, monthKey, client, tier, endpoint, reservedDelta, chargedDelta, dayExpireAt, monthExpireAt)
  for _, subject in ipairs({'global', 'tier:' .. tier, 'client:' .. client, 'model:' .. endpoint}) do
    for _, usage in ipairs({dayKey, monthKey}) do
      if reservedDelta ~= 0 then redis.call('HINCRBY', usage, subject .. '|r', reservedDelta) end
      if chargedDelta ~= 0 then redis.call('HINCRBY', usage, subject .. '|c', chargedDelta) end
    end
  end
  redis.call('PEXPIREAT', dayKey, dayExpireAt)
  redis.call('PEXPIREAT', monthKey, monthExpireAt)
end
-- Entry ids follow the entries' own time (never below the stream's last id), so that a period's
-- entries are read by id range whichever replica's clock wrote them.
local function ledger(key, minId, now, event, reservation, request, client, tier, endpoint, reservedDelta, chargedDelta)
  local ms = tonumber(now)
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if top then ms = math.max(ms, tonumber(string.match(top[1], '^(%d+)'))) end
  redis.call('XADD', key, 'MINID', '~', minId, string.format('%.0f', ms) .. '-*', 'at', now, 'event', event, 'reservation', reservation,
    'request', request, 'client', client, 'tier', tier, 'endpoint', endpoint,
    'reserved', reservedDelta, 'charged', chargedDelta)
end
`

// KEYS: idem, u:day, u:month, record, expiring, unconfirmed, ledger
// ARGV: now, reservation, client, tier, endpoint, amount, day, month, expiresAt, unconfirmedAt,
//       keepUntil, dayExpireAt, monthExpireAt, hasIdem, fingerprint, idemExpireAt, ledgerMinId,
//       scope, budget count, then per budget: subject, period, limit
// → {'key-reused'} | {'replay', status, type, body} | {'in-flight', state}
//   | {'refused' | 'reserved', used by each budget before this submit…}
export const BEGIN = `${COUNT}
if ARGV[14] == '1' then
  local idem = redis.call('HMGET', KEYS[1], 'state', 'fingerprint', 'status', 'type', 'body')
  if idem[1] then
    if idem[2] ~= ARGV[15] then return {'key-reused'} end
    if idem[1] == 'completed' then return {'replay', idem[3], idem[4], idem[5]} end
    return {'in-flight', idem[1]}
  end
end
local amount = tonumber(ARGV[6])
local used = {}
local exceeded = false
for i = 1, tonumber(ARGV[19]) do
  local base = 19 + (i - 1) * 3
  local usage = KEYS[2]
  if ARGV[base + 2] == 'month' then usage = KEYS[3] end
  local subject = ARGV[base + 1]
  local fields = redis.call('HMGET', usage, subject .. '|r', subject .. '|c')
  used[i] = tonumber(fields[1] or '0') + tonumber(fields[2] or '0')
  if used[i] + amount > tonumber(ARGV[base + 3]) then exceeded = true end
end
if exceeded then return {'refused', unpack(used)} end
count(KEYS[2], KEYS[3], ARGV[3], ARGV[4], ARGV[5], amount, 0, ARGV[12], ARGV[13])
redis.call('HSET', KEYS[4], 'state', 'pending', 'client', ARGV[3], 'tier', ARGV[4], 'endpoint', ARGV[5],
  'amount', amount, 'charged', 0, 'at', ARGV[1], 'day', ARGV[7], 'month', ARGV[8], 'idem', ARGV[18], 'request', '')
redis.call('PEXPIREAT', KEYS[4], ARGV[11])
redis.call('ZADD', KEYS[5], ARGV[9], ARGV[2])
redis.call('ZADD', KEYS[6], ARGV[10], ARGV[2])
if ARGV[14] == '1' then
  redis.call('HSET', KEYS[1], 'state', 'in-flight', 'fingerprint', ARGV[15], 'reservation', ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ARGV[16])
end
ledger(KEYS[7], ARGV[17], ARGV[1], 'reserve', ARGV[2], '', ARGV[3], ARGV[4], ARGV[5], amount, 0)
return {'reserved', unpack(used)}
`

// KEYS: record, q:<request>, idem, u:day, u:month, expiring, unconfirmed, ledger
// ARGV: now, reservation, request, client, tier, endpoint, amount, at, day, month, expiresAt,
//       keepUntil, dayExpireAt, monthExpireAt, hasIdem, fingerprint, idemExpireAt, scope,
//       hasAnswer, status, type, body, ledgerMinId
// → 1 when the record had been lost and was written again, else 0
export const CONFIRM = `${COUNT}
local recreated = 0
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  recreated = 1
  local amount = tonumber(ARGV[7])
  count(KEYS[4], KEYS[5], ARGV[4], ARGV[5], ARGV[6], amount, 0, ARGV[13], ARGV[14])
  redis.call('HSET', KEYS[1], 'state', 'submitted', 'client', ARGV[4], 'tier', ARGV[5], 'endpoint', ARGV[6],
    'amount', amount, 'charged', 0, 'at', ARGV[8], 'day', ARGV[9], 'month', ARGV[10], 'idem', ARGV[18])
  redis.call('PEXPIREAT', KEYS[1], ARGV[12])
  redis.call('ZADD', KEYS[6], ARGV[11], ARGV[2])
  ledger(KEYS[8], ARGV[23], ARGV[1], 'recover', ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], amount, 0)
elseif state == 'pending' or state == 'unresolved' then
  redis.call('HSET', KEYS[1], 'state', 'submitted')
end
redis.call('HSET', KEYS[1], 'request', ARGV[3])
redis.call('ZREM', KEYS[7], ARGV[2])
redis.call('SET', KEYS[2], ARGV[2], 'PXAT', ARGV[12])
if ARGV[15] == '1' then
  local owner = redis.call('HGET', KEYS[3], 'reservation')
  if (not owner) or owner == ARGV[2] then
    if ARGV[19] == '1' then
      redis.call('HSET', KEYS[3], 'state', 'completed', 'fingerprint', ARGV[16], 'reservation', ARGV[2],
        'status', ARGV[20], 'type', ARGV[21], 'body', ARGV[22])
    else
      redis.call('HSET', KEYS[3], 'state', 'in-flight', 'fingerprint', ARGV[16], 'reservation', ARGV[2])
    end
    if not owner then redis.call('PEXPIREAT', KEYS[3], ARGV[17]) end
  end
end
return recreated
`

// KEYS: record, idem, u:day, u:month, expiring, unconfirmed, ledger
// ARGV: now, reservation, action (abort|unresolve|release|settle|expire), actual micro-USD,
//       hasAnswer, status, type, body, dayExpireAt, monthExpireAt, ledgerMinId (an empty actual
//       settles at the reserved amount)
// → {} when nothing changed, else {event, client, tier, endpoint, request, reserved delta,
//   charged delta, 1 if the record was never confirmed}
export const TRANSITION = `${COUNT}
local now = tonumber(ARGV[1])
local id = ARGV[2]
local action = ARGV[3]
local r = redis.call('HMGET', KEYS[1], 'state', 'client', 'tier', 'endpoint', 'amount', 'charged', 'request', 'idem')
local state = r[1]
if not state then
  if action == 'expire' then
    redis.call('ZREM', KEYS[5], id)
    redis.call('ZREM', KEYS[6], id)
  end
  return {}
end
local amount = tonumber(r[5])
local charged = tonumber(r[6])
local idemState = nil
if r[8] ~= '' and redis.call('HGET', KEYS[2], 'reservation') == id then idemState = redis.call('HGET', KEYS[2], 'state') end
local function storeAnswer()
  redis.call('HSET', KEYS[2], 'state', 'completed', 'status', ARGV[6], 'type', ARGV[7], 'body', ARGV[8])
end
local reservedDelta, chargedDelta, event, nextState, unconfirmed = 0, 0, nil, nil, 0
if action == 'abort' then
  if idemState and idemState ~= 'completed' then
    if ARGV[5] == '1' then storeAnswer() else redis.call('DEL', KEYS[2]) end
  end
  if state == 'pending' or state == 'unresolved' then
    reservedDelta, event, nextState = -amount, 'release', 'released'
  end
elseif action == 'unresolve' then
  if state == 'pending' then redis.call('HSET', KEYS[1], 'state', 'unresolved') end
  if idemState == 'in-flight' and ARGV[5] == '1' then storeAnswer() end
  return {}
elseif action == 'release' then
  if state == 'submitted' then
    reservedDelta, event, nextState = -amount, 'release', 'released'
  elseif state == 'expired' then
    chargedDelta, event, nextState = -charged, 'release', 'released'
  end
elseif action == 'settle' then
  local actual = tonumber(ARGV[4]) or amount
  if state == 'submitted' then
    reservedDelta, chargedDelta, event, nextState = -amount, actual, 'settle', 'settled'
  elseif state == 'expired' then
    chargedDelta, event, nextState = actual - charged, 'settle', 'settled'
  end
elseif action == 'expire' then
  if state == 'pending' or state == 'submitted' or state == 'unresolved' then
    local expiresAt = redis.call('ZSCORE', KEYS[5], id)
    local orphanAt = redis.call('ZSCORE', KEYS[6], id)
    local isOrphan = state ~= 'submitted' and orphanAt and tonumber(orphanAt) <= now
    if isOrphan or (expiresAt and tonumber(expiresAt) <= now) then
      reservedDelta, chargedDelta, event, nextState = -amount, amount, 'expire', 'expired'
      if state ~= 'submitted' then
        unconfirmed = 1
        if idemState == 'in-flight' then redis.call('HSET', KEYS[2], 'state', 'unknown') end
      end
    end
  else
    redis.call('ZREM', KEYS[5], id)
    redis.call('ZREM', KEYS[6], id)
  end
end
if not event then return {} end
redis.call('HSET', KEYS[1], 'state', nextState, 'charged', charged + chargedDelta)
redis.call('ZREM', KEYS[5], id)
redis.call('ZREM', KEYS[6], id)
count(KEYS[3], KEYS[4], r[2], r[3], r[4], reservedDelta, chargedDelta, ARGV[9], ARGV[10])
ledger(KEYS[7], ARGV[11], ARGV[1], event, id, r[7] or '', r[2], r[3], r[4], reservedDelta, chargedDelta)
return {event, r[2], r[3], r[4], r[7] or '', reservedDelta, chargedDelta, unconfirmed}
`
