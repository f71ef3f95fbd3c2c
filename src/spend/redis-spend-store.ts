import type { RedisConnection } from '../redis/redis-client.js'
import { writeReplicated, type ReplicaAcks } from '../redis/replicated-write.js'
import { StoreUnavailable } from '../errors/gateway-errors.js'
import { refusingBudget, standingsOf } from './budget-standing.js'
import { BEGIN, CONFIRM, TRANSITION } from './redis-spend-scripts.js'
import type {
  BeginOutcome,
  LedgerEntry,
  LedgerEvent,
  SpendStore,
  SpendStoreOptions,
  StoredAnswer,
  SubmitIntent,
  SweepResult,
  UsageTotals
} from './spend-store.js'
import { parsePeriodKey, periodEnd, periodKey, type Period } from './utc-periods.js'

export interface RedisSpendStoreOptions extends SpendStoreOptions {
  /** Best made with createRedisClient, so that calls fail fast while Redis is away. */
  client: RedisConnection
  /** Namespace of every key; must hold one hash tag, `{…}` (default `falgw:{spend}:`). */
  prefix?: string
  /**
   * A reservation and a confirmation count only once this many replicas hold them (WAIT): a
   * failover cannot forget money admitted. Unconfirmed in time, a reservation is aborted and
   * `begin` fails (StoreUnavailable); a confirmation fails, and the journal repeats it.
   */
  replicaAcks?: ReplicaAcks
}

type Arg = string | number
type Reply = Array<string | number>
interface ScriptCommands {
  falgwSpendBegin (...args: Arg[]): Promise<Reply>
  falgwSpendConfirm (...args: Arg[]): Promise<number>
  falgwSpendTransition (...args: Arg[]): Promise<Reply>
}

type Action = 'abort' | 'unresolve' | 'release' | 'settle' | 'expire'

const PAGE = 1000
const NO_ANSWER = [0, '', '', ''] as const
/** An entry's id is never below the stream's last one: replicas' clocks apart by up to this are read right. */
const CLOCK_SKEW_MS = 300_000

/**
 * Spend shared by every replica using the same Redis. Each decision is one Lua script (see
 * redis-spend-scripts.ts); the client is not closed by `close()`, it belongs to its creator.
 */
export function createRedisSpendStore (options: RedisSpendStoreOptions): SpendStore {
  const { client, prefix = 'falgw:{spend}:' } = options
  if (!/\{[^{}]+\}/.test(prefix)) throw new Error(`spend key prefix "${prefix}" holds no hash tag`)
  client.defineCommand('falgwSpendBegin', { numberOfKeys: 7, lua: BEGIN })
  client.defineCommand('falgwSpendConfirm', { numberOfKeys: 8, lua: CONFIRM })
  client.defineCommand('falgwSpendTransition', { numberOfKeys: 7, lua: TRANSITION })
  const redis = client as unknown as RedisConnection & ScriptCommands
  const scripts = (commands: unknown): ScriptCommands => commands as ScriptCommands
  const notReplicated = (what: string): Error => new StoreUnavailable({ cause: new Error(`no replica confirmed the ${what} in time`) })

  const recordKey = (reservationId: string) => `${prefix}r:${reservationId}`
  const requestKey = (requestId: string) => `${prefix}q:${requestId}`
  // An empty scope names a key no submit ever writes: scripts get a key of the slot either way.
  const idemKey = (scope: string) => `${prefix}i:${scope}`
  const usageKey = (period: Period, key: string) => `${prefix}u:${period}:${key}`
  const expiringKey = `${prefix}expiring`
  const unconfirmedKey = `${prefix}unconfirmed`
  const ledgerKey = `${prefix}ledger`
  const ledgerMinId = (now: number) => `${Math.max(0, now - options.retentionMs)}-0`
  const usageExpireAt = (period: Period, key: string) => periodEnd(period, parsePeriodKey(period, key) ?? 0) + options.retentionMs

  const answerArgs = (answer: StoredAnswer | undefined) => answer === undefined ? NO_ANSWER : [1, answer.statusCode, answer.contentType, answer.body] as const

  /** Runs TRANSITION on a record, reading its immutable fields first to name its keys. */
  async function transition (reservationId: string, action: Action, now: number, extra: { actualMicros?: number, answer?: StoredAnswer } = {}): Promise<{ entry: LedgerEntry, unconfirmed: boolean } | undefined> {
    const [day, month, scope] = await call(() => redis.hmget(recordKey(reservationId), 'day', 'month', 'idem'))
    // A record gone (expired or never written): only its index entries may be left to clean.
    const days = day ?? periodKey('day', now)
    const months = month ?? periodKey('month', now)
    const reply = await call(() => redis.falgwSpendTransition(
      recordKey(reservationId), idemKey(scope ?? ''), usageKey('day', days), usageKey('month', months), expiringKey, unconfirmedKey, ledgerKey,
      now, reservationId, action, extra.actualMicros ?? '', ...answerArgs(extra.answer),
      usageExpireAt('day', days), usageExpireAt('month', months), ledgerMinId(now)))
    if (reply.length === 0) return undefined
    const [event, clientId, tier, endpointId, requestId, reservedDelta, chargedDelta, unconfirmed] = reply
    return {
      entry: {
        at: now,
        event: event as LedgerEvent,
        reservationId,
        ...(requestId === '' ? {} : { requestId: String(requestId) }),
        clientId: String(clientId),
        tier: String(tier),
        endpointId: String(endpointId),
        reservedDeltaMicros: Number(reservedDelta),
        chargedDeltaMicros: Number(chargedDelta)
      },
      unconfirmed: Number(unconfirmed) === 1
    }
  }

  async function reservationOf (requestId: string): Promise<string | undefined> {
    return await call(() => redis.get(requestKey(requestId))) ?? undefined
  }

  return {
    async begin (intent: SubmitIntent): Promise<BeginOutcome> {
      const now = intent.at
      const day = periodKey('day', now)
      const month = periodKey('month', now)
      const idem = intent.idempotency
      const { reply, replicated } = await call(() => writeReplicated<Reply>(client, options.replicaAcks, commands => scripts(commands).falgwSpendBegin(
        idemKey(idem?.scope ?? ''), usageKey('day', day), usageKey('month', month), recordKey(intent.reservationId),
        expiringKey, unconfirmedKey, ledgerKey,
        now, intent.reservationId, intent.clientId, intent.tier, intent.endpointId, intent.amountMicros, day, month,
        now + options.reservationExpiryMs, now + options.unconfirmedAfterMs, keepUntil(intent),
        usageExpireAt('day', day), usageExpireAt('month', month),
        idem === undefined ? 0 : 1, idem?.fingerprint ?? '', now + options.idempotencyTtlMs, ledgerMinId(now), idem?.scope ?? '',
        intent.budgets.length, ...intent.budgets.flatMap(budget => [budget.subject, budget.period, budget.limitMicros]))))
      const [outcome, ...rest] = reply
      if (outcome === 'reserved' && !replicated) {
        // Held by the master alone: a failover now would forget the money. Give it back, refuse.
        await transition(intent.reservationId, 'abort', now).catch(() => {})
        throw notReplicated('reservation')
      }
      switch (outcome) {
        case 'key-reused': return { outcome: 'key-reused' }
        case 'replay': return { outcome: 'replay', answer: { statusCode: Number(rest[0]), contentType: String(rest[1]), body: String(rest[2]) } }
        case 'in-flight': return { outcome: 'in-flight', unknown: rest[0] === 'unknown' }
      }
      const used = rest.map(Number)
      if (outcome === 'reserved') return { outcome: 'reserved', standings: standingsOf(intent.budgets, used, intent.amountMicros, now) }
      const standings = standingsOf(intent.budgets, used, 0, now)
      const standing = refusingBudget(standings, intent.amountMicros)
      if (standing === undefined) throw new Error('spend store refused a submit that fits every budget')
      return { outcome: 'refused', standing, standings }
    },

    async confirm ({ intent, requestId, answer, now = Date.now() }) {
      const day = periodKey('day', intent.at)
      const month = periodKey('month', intent.at)
      const idem = intent.idempotency
      const { reply: recreated, replicated } = await call(() => writeReplicated<number>(client, options.replicaAcks, commands => scripts(commands).falgwSpendConfirm(
        recordKey(intent.reservationId), requestKey(requestId), idemKey(idem?.scope ?? ''), usageKey('day', day), usageKey('month', month),
        expiringKey, unconfirmedKey, ledgerKey,
        now, intent.reservationId, requestId, intent.clientId, intent.tier, intent.endpointId, intent.amountMicros, intent.at, day, month,
        intent.at + options.reservationExpiryMs, keepUntil(intent), usageExpireAt('day', day), usageExpireAt('month', month),
        idem === undefined ? 0 : 1, idem?.fingerprint ?? '', intent.at + options.idempotencyTtlMs, idem?.scope ?? '',
        ...answerArgs(answer), ledgerMinId(now))))
      if (!replicated) throw notReplicated('confirmation')
      return { recreated: recreated === 1 }
    },

    async abort ({ reservationId, answer, now = Date.now() }) {
      return (await transition(reservationId, 'abort', now, { answer }))?.entry
    },

    async leaveUnresolved ({ reservationId, answer, now = Date.now() }) {
      await transition(reservationId, 'unresolve', now, { answer })
    },

    async release ({ requestId, now = Date.now() }) {
      const reservationId = await reservationOf(requestId)
      return reservationId === undefined ? undefined : (await transition(reservationId, 'release', now))?.entry
    },

    async settle ({ requestId, actualMicros, now = Date.now() }) {
      const reservationId = await reservationOf(requestId)
      return reservationId === undefined ? undefined : (await transition(reservationId, 'settle', now, { actualMicros }))?.entry
    },

    async sweep ({ now = Date.now(), limit = PAGE } = {}) {
      const [expiring, unconfirmed] = await Promise.all([
        call(() => redis.zrangebyscore(expiringKey, '-inf', now, 'LIMIT', 0, limit)),
        call(() => redis.zrangebyscore(unconfirmedKey, '-inf', now, 'LIMIT', 0, limit))
      ])
      const result: SweepResult = { expired: [], unconfirmed: [] }
      for (const reservationId of new Set([...unconfirmed, ...expiring])) {
        const changed = await transition(reservationId, 'expire', now)
        if (changed === undefined) continue
        result.expired.push(changed.entry)
        if (changed.unconfirmed) result.unconfirmed.push(changed.entry)
      }
      return result
    },

    async totals ({ period, key, subjects }) {
      if (subjects.length === 0) return {}
      const fields = subjects.flatMap(subject => [`${subject}|r`, `${subject}|c`])
      const values = await call(() => redis.hmget(usageKey(period, key), ...fields))
      return Object.fromEntries(subjects.map((subject, i) => [subject, {
        reservedMicros: Number(values[2 * i] ?? 0),
        chargedMicros: Number(values[2 * i + 1] ?? 0)
      }]))
    },

    async allTotals ({ period, key }) {
      const fields = await call(() => redis.hgetall(usageKey(period, key)))
      const totals: Record<string, UsageTotals> = {}
      for (const [field, value] of Object.entries(fields)) {
        const split = field.lastIndexOf('|')
        const subject = field.slice(0, split)
        const found = totals[subject] ??= { reservedMicros: 0, chargedMicros: 0 }
        if (field.slice(split + 1) === 'r') found.reservedMicros = Number(value)
        else found.chargedMicros = Number(value)
      }
      return totals
    },

    async * ledger ({ from, to }) {
      let start = `${Math.max(0, from)}-0`
      const end = `${to + CLOCK_SKEW_MS}`
      for (;;) {
        const page = await call(() => redis.xrange(ledgerKey, start, end, 'COUNT', PAGE))
        const entries = page.map(([, fields]) => ledgerEntryOf(fields)).filter(entry => entry.at >= from && entry.at < to)
        if (entries.length > 0) yield entries
        if (page.length < PAGE) return
        start = `(${(page[page.length - 1] as [string, string[]])[0]}`
      }
    },

    async close () {}
  }

  function keepUntil (intent: SubmitIntent): number {
    return intent.at + options.reservationExpiryMs + options.idempotencyTtlMs
  }
}

function ledgerEntryOf (fields: string[]): LedgerEntry {
  const value: Record<string, string> = {}
  for (let i = 0; i + 1 < fields.length; i += 2) value[fields[i] as string] = fields[i + 1] as string
  return {
    at: Number(value.at),
    event: value.event as LedgerEvent,
    reservationId: value.reservation ?? '',
    ...(value.request === undefined || value.request === '' ? {} : { requestId: value.request }),
    clientId: value.client ?? '',
    tier: value.tier ?? '',
    endpointId: value.endpoint ?? '',
    reservedDeltaMicros: Number(value.reserved),
    chargedDeltaMicros: Number(value.charged)
  }
}

async function call<T> (command: () => Promise<T>): Promise<T> {
  try {
    return await command()
  } catch (cause) {
    throw new StoreUnavailable({ cause })
  }
}
