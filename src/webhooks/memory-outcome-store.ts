import { ByteBoundedCache, utf16Bytes } from '../cache/byte-bounded-cache.js'
import { withoutBody, type JobOutcome, type OutcomeStore } from './outcome-store.js'
import { OutcomeWaiters } from './outcome-waiters.js'

export interface OutcomeBounds {
  /** Bytes of outcomes kept (POLL_CACHE_MAX_BYTES); 0 keeps none, though waiters are still told. */
  maxBytes: number
  /** How long an outcome is kept (POLL_COMPLETED_TTL_MS). */
  ttlMs: number
}

/** Deliveries remembered against replay before the oldest are forgotten (only signed ones get here). */
const MAX_SEEN = 100_000

/** One replica's outcomes, for a gateway without Redis. */
export function createMemoryOutcomeStore (bounds: OutcomeBounds): OutcomeStore {
  const outcomes = new ByteBoundedCache<string>(bounds.maxBytes, utf16Bytes)
  const seen = new Map<string, number>()
  const waiters = new OutcomeWaiters()

  function firstSighting (key: string, windowMs: number, now: number): boolean {
    const expiresAt = seen.get(key)
    if (expiresAt !== undefined && expiresAt > now) return false
    seen.delete(key)
    seen.set(key, now + windowMs)
    // Insertion order is expiry order (one window for all), so the oldest go first.
    for (const [oldest, at] of seen) {
      if (seen.size <= MAX_SEEN && at > now) break
      seen.delete(oldest)
    }
    return true
  }

  return {
    async record (outcome, { timestamp, replayWindowMs }) {
      const now = Date.now()
      if (!firstSighting(`${outcome.requestId}:${timestamp}`, replayWindowMs, now)) return 'replayed'
      if (outcomes.get(outcome.requestId, now) !== undefined) return 'known'
      const full = JSON.stringify(outcome)
      // Too large for the bounds: keep the status alone, so the job still counts as ended.
      outcomes.set(outcome.requestId, fits(full, bounds.maxBytes) ? full : JSON.stringify(withoutBody(outcome)), bounds.ttlMs, now)
      waiters.settle(outcome)
      return 'recorded'
    },
    async get (requestId) {
      const text = outcomes.get(requestId)
      return text === undefined ? undefined : JSON.parse(text) as JobOutcome
    },
    async wait (requestId, signal) {
      const known = outcomes.get(requestId)
      if (known !== undefined) return JSON.parse(known) as JobOutcome
      return await waiters.wait(requestId, signal)
    },
    async close () {}
  }
}

/** The byte cache's own cost estimate (UTF-16, plus overhead), with room for the key. */
export function fits (text: string, maxBytes: number): boolean {
  return text.length * 2 + 256 <= maxBytes
}
