import { refusingBudget, standingsOf } from './budget-standing.js'
import {
  counterSubjects,
  type LedgerEntry,
  type LedgerEvent,
  type SpendStore,
  type SpendStoreOptions,
  type StoredAnswer,
  type SubmitIntent,
  type SweepResult,
  type UsageTotals
} from './spend-store.js'
import { periodEnd, periodKey, type Period } from './utc-periods.js'

type RecordState = 'pending' | 'submitted' | 'unresolved' | 'released' | 'settled' | 'expired'

interface ReservationRecord {
  intent: SubmitIntent
  state: RecordState
  /** What the record has been charged so far (by expiry or settlement). */
  chargedMicros: number
  requestId?: string
  expiresAt: number
  unconfirmedAt: number
  keepUntil: number
}

interface IdempotencyRecord {
  state: 'in-flight' | 'completed' | 'unknown'
  fingerprint: string
  reservationId: string
  answer?: StoredAnswer
  expiresAt: number
}

const PAGE = 1000

/**
 * The spend store of a single node: exact, but per process (N replicas would each allow the whole
 * budget). Every method runs synchronously to its end, which is what makes it atomic here.
 */
export function createMemorySpendStore (options: SpendStoreOptions): SpendStore {
  const records = new Map<string, ReservationRecord>()
  const byRequest = new Map<string, string>()
  const keys = new Map<string, IdempotencyRecord>()
  const periods = new Map<string, { expiresAt: number, totals: Map<string, UsageTotals> }>()
  let ledger: LedgerEntry[] = []

  const periodTotals = (period: Period, key: string, at: number) => {
    const name = `${period}:${key}`
    let found = periods.get(name)
    if (found === undefined) {
      found = { expiresAt: periodEnd(period, at) + options.retentionMs, totals: new Map() }
      periods.set(name, found)
    }
    return found.totals
  }
  const used = (subject: string, period: Period, at: number): number => {
    const totals = periods.get(`${period}:${periodKey(period, at)}`)?.totals.get(subject)
    return totals === undefined ? 0 : totals.reservedMicros + totals.chargedMicros
  }
  const count = (intent: SubmitIntent, reservedDelta: number, chargedDelta: number): void => {
    for (const period of ['day', 'month'] as const) {
      const totals = periodTotals(period, periodKey(period, intent.at), intent.at)
      for (const subject of counterSubjects(intent)) {
        const current = totals.get(subject) ?? { reservedMicros: 0, chargedMicros: 0 }
        totals.set(subject, { reservedMicros: current.reservedMicros + reservedDelta, chargedMicros: current.chargedMicros + chargedDelta })
      }
    }
  }
  const record = (entry: ReservationRecord, event: LedgerEvent, reservedDelta: number, chargedDelta: number, now: number): LedgerEntry => {
    count(entry.intent, reservedDelta, chargedDelta)
    entry.chargedMicros += chargedDelta
    const { intent } = entry
    const line: LedgerEntry = {
      at: now,
      event,
      reservationId: intent.reservationId,
      ...(entry.requestId === undefined ? {} : { requestId: entry.requestId }),
      clientId: intent.clientId,
      tier: intent.tier,
      endpointId: intent.endpointId,
      reservedDeltaMicros: reservedDelta,
      chargedDeltaMicros: chargedDelta
    }
    ledger.push(line)
    return line
  }
  const liveKey = (scope: string, now: number): IdempotencyRecord | undefined => {
    const found = keys.get(scope)
    if (found !== undefined && found.expiresAt <= now) keys.delete(scope)
    return found !== undefined && found.expiresAt > now ? found : undefined
  }
  const keyOf = (entry: ReservationRecord, now: number): IdempotencyRecord | undefined => {
    const scope = entry.intent.idempotency?.scope
    const found = scope === undefined ? undefined : liveKey(scope, now)
    return found?.reservationId === entry.intent.reservationId ? found : undefined
  }
  const isReserved = (state: RecordState) => state === 'pending' || state === 'submitted' || state === 'unresolved'
  const newRecord = (intent: SubmitIntent, state: RecordState): ReservationRecord => ({
    intent,
    state,
    chargedMicros: 0,
    expiresAt: intent.at + options.reservationExpiryMs,
    unconfirmedAt: intent.at + options.unconfirmedAfterMs,
    keepUntil: intent.at + options.reservationExpiryMs + options.idempotencyTtlMs
  })

  return {
    async begin (intent) {
      const now = intent.at
      if (intent.idempotency !== undefined) {
        const existing = liveKey(intent.idempotency.scope, now)
        if (existing !== undefined) {
          if (existing.fingerprint !== intent.idempotency.fingerprint) return { outcome: 'key-reused' }
          if (existing.state === 'completed' && existing.answer !== undefined) return { outcome: 'replay', answer: existing.answer }
          return { outcome: 'in-flight', unknown: existing.state === 'unknown' }
        }
      }
      const usedNow = intent.budgets.map(budget => used(budget.subject, budget.period, now))
      const before = standingsOf(intent.budgets, usedNow, 0, now)
      const refusing = refusingBudget(before, intent.amountMicros)
      if (refusing !== undefined) return { outcome: 'refused', standing: refusing, standings: before }
      const entry = newRecord(intent, 'pending')
      records.set(intent.reservationId, entry)
      if (intent.idempotency !== undefined) {
        keys.set(intent.idempotency.scope, { state: 'in-flight', fingerprint: intent.idempotency.fingerprint, reservationId: intent.reservationId, expiresAt: now + options.idempotencyTtlMs })
      }
      record(entry, 'reserve', intent.amountMicros, 0, now)
      return { outcome: 'reserved', standings: standingsOf(intent.budgets, usedNow, intent.amountMicros, now) }
    },

    async confirm ({ intent, requestId, answer, now = Date.now() }) {
      let entry = records.get(intent.reservationId)
      const recreated = entry === undefined
      if (entry === undefined) {
        entry = { ...newRecord(intent, 'submitted'), requestId }
        records.set(intent.reservationId, entry)
        record(entry, 'recover', intent.amountMicros, 0, now)
      } else if (entry.state === 'pending' || entry.state === 'unresolved') {
        entry.state = 'submitted'
      }
      entry.requestId = requestId
      byRequest.set(requestId, intent.reservationId)
      if (intent.idempotency !== undefined) {
        const existing = liveKey(intent.idempotency.scope, now)
        if (existing === undefined || existing.reservationId === intent.reservationId) {
          keys.set(intent.idempotency.scope, {
            state: answer === undefined ? 'in-flight' : 'completed',
            fingerprint: intent.idempotency.fingerprint,
            reservationId: intent.reservationId,
            ...(answer === undefined ? {} : { answer }),
            expiresAt: (existing?.expiresAt ?? intent.at + options.idempotencyTtlMs)
          })
        }
      }
      return { recreated }
    },

    async abort ({ reservationId, answer, now = Date.now() }) {
      const entry = records.get(reservationId)
      if (entry === undefined) return undefined
      const key = keyOf(entry, now)
      if (key !== undefined && key.state !== 'completed') {
        if (answer === undefined) keys.delete(entry.intent.idempotency?.scope as string)
        else Object.assign(key, { state: 'completed', answer })
      }
      if (entry.state !== 'pending' && entry.state !== 'unresolved') return undefined
      entry.state = 'released'
      return record(entry, 'release', -entry.intent.amountMicros, 0, now)
    },

    async leaveUnresolved ({ reservationId, answer, now = Date.now() }) {
      const entry = records.get(reservationId)
      if (entry === undefined) return
      if (entry.state === 'pending') entry.state = 'unresolved'
      const key = keyOf(entry, now)
      if (key !== undefined && key.state === 'in-flight' && answer !== undefined) Object.assign(key, { state: 'completed', answer })
    },

    async release ({ requestId, now = Date.now() }) {
      const entry = records.get(byRequest.get(requestId) ?? '')
      if (entry === undefined) return undefined
      if (entry.state === 'submitted') {
        entry.state = 'released'
        return record(entry, 'release', -entry.intent.amountMicros, 0, now)
      }
      if (entry.state === 'expired') {
        entry.state = 'released'
        return record(entry, 'release', 0, -entry.chargedMicros, now)
      }
      return undefined
    },

    async settle ({ requestId, actualMicros: given, now = Date.now() }) {
      const entry = records.get(byRequest.get(requestId) ?? '')
      if (entry === undefined) return undefined
      const actualMicros = given ?? entry.intent.amountMicros
      if (entry.state === 'submitted') {
        entry.state = 'settled'
        return record(entry, 'settle', -entry.intent.amountMicros, actualMicros, now)
      }
      if (entry.state === 'expired') {
        entry.state = 'settled'
        return record(entry, 'settle', 0, actualMicros - entry.chargedMicros, now)
      }
      return undefined
    },

    async sweep ({ now = Date.now(), limit = PAGE } = {}) {
      const result: SweepResult = { expired: [], unconfirmed: [] }
      for (const [id, entry] of records) {
        if (entry.keepUntil <= now && !isReserved(entry.state)) {
          records.delete(id)
          if (entry.requestId !== undefined) byRequest.delete(entry.requestId)
          continue
        }
        if (result.expired.length >= limit || !isReserved(entry.state)) continue
        const unconfirmed = entry.state !== 'submitted'
        if (entry.expiresAt > now && !(unconfirmed && entry.unconfirmedAt <= now)) continue
        entry.state = 'expired'
        const line = record(entry, 'expire', -entry.intent.amountMicros, entry.intent.amountMicros, now)
        result.expired.push(line)
        if (!unconfirmed) continue
        result.unconfirmed.push(line)
        const key = keyOf(entry, now)
        if (key !== undefined && key.state === 'in-flight') key.state = 'unknown'
      }
      for (const [scope, key] of keys) if (key.expiresAt <= now) keys.delete(scope)
      for (const [name, period] of periods) if (period.expiresAt <= now) periods.delete(name)
      const oldest = now - options.retentionMs
      if (ledger.length > 0 && (ledger[0] as LedgerEntry).at < oldest) ledger = ledger.filter(line => line.at >= oldest)
      return result
    },

    async totals ({ period, key, subjects }) {
      const totals = periods.get(`${period}:${key}`)?.totals
      return Object.fromEntries(subjects.map(subject => [subject, { ...(totals?.get(subject) ?? { reservedMicros: 0, chargedMicros: 0 }) }]))
    },

    async allTotals ({ period, key }) {
      return Object.fromEntries([...(periods.get(`${period}:${key}`)?.totals ?? [])].map(([subject, totals]) => [subject, { ...totals }]))
    },

    async * ledger ({ from, to }) {
      const lines = ledger.filter(line => line.at >= from && line.at < to)
      for (let i = 0; i < lines.length; i += PAGE) yield lines.slice(i, i + PAGE)
    },

    async close () {}
  }
}
