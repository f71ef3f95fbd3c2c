import { StoreUnavailable } from '../errors/gateway-errors.js'
import type { ConfirmJobInput, CancelReservationInput, LimitStore, ReserveJobInput, ReserveJobResult } from './limit-store.js'
import { nextUtcMidnight, utcDay } from './utc-day.js'

export interface MemoryLimitStoreOptions {
  /**
   * Most clients tracked at once (default 100,000). A client is tracked while it has jobs in flight
   * or has submitted today. Counters are never evicted, since evicting one would reset a limit:
   * a new client beyond the bound gets StoreUnavailable and the caller's fail mode applies.
   */
  maxClients?: number
  /** Most request owners kept (default 1,000,000); beyond it the oldest records are dropped first. */
  maxOwnedRequests?: number
}

interface ClientState {
  /** Submits on their way to fal, by reservation id: when they lapse, and the day they were charged to. */
  reservations: Map<string, { expiresAt: number, day: string }>
  /**
   * Jobs fal accepted, by request id: when they stop counting. A bare number keyed by the very
   * string the owner map holds keeps a tracked request near 300 bytes (BENCHMARKS.md).
   */
  jobs: Map<string, number>
  quotaDay: string
  quotaUsed: number
}

const inFlightOf = (state: ClientState): number => state.reservations.size + state.jobs.size

const SWEEP_INTERVAL_MS = 1000

/** One process's limits; same semantics as the Redis store, for a single replica. */
export function createMemoryLimitStore (options: MemoryLimitStoreOptions = {}): LimitStore {
  const maxClients = options.maxClients ?? 100_000
  const maxOwnedRequests = options.maxOwnedRequests ?? 1_000_000
  const clients = new Map<string, ClientState>()
  const owners = new Map<string, { clientId: string, expiresAt: number }>()
  let lastSweep = -Infinity

  function stateFor (clientId: string, now: number): ClientState {
    let state = clients.get(clientId)
    if (state !== undefined) return state
    if (clients.size >= maxClients) sweepIdleClients(now)
    if (clients.size >= maxClients) throw new StoreUnavailable({ cause: new Error('memory limit store is full') })
    state = { reservations: new Map(), jobs: new Map(), quotaDay: utcDay(now), quotaUsed: 0 }
    clients.set(clientId, state)
    return state
  }

  // Throttled so a flood of new clients at the bound cannot make every call scan the whole map.
  function sweepIdleClients (now: number): void {
    if (now - lastSweep < SWEEP_INTERVAL_MS) return
    lastSweep = now
    const today = utcDay(now)
    for (const [clientId, state] of clients) {
      dropExpired(state, now)
      if (inFlightOf(state) === 0 && (state.quotaDay !== today || state.quotaUsed === 0)) clients.delete(clientId)
    }
  }

  function ownerRecord (requestId: string): { clientId: string } | undefined {
    const record = owners.get(requestId)
    if (record === undefined || record.expiresAt > Date.now()) return record
    owners.delete(requestId)
    return undefined
  }

  return {
    async reserveJob ({ clientId, reservationId, maxInFlight, dailyQuota, ttlMs, now = Date.now() }: ReserveJobInput): Promise<ReserveJobResult> {
      const state = stateFor(clientId, now)
      dropExpired(state, now)
      const day = utcDay(now)
      if (state.quotaDay !== day) {
        state.quotaDay = day
        state.quotaUsed = 0
      }
      const inFlight = inFlightOf(state)
      const quotaUsed = state.quotaUsed
      if (quotaUsed >= dailyQuota) {
        return { ok: false, reason: 'QUOTA_EXCEEDED', retryAfterMs: nextUtcMidnight(now) - now, inFlight, quotaUsed }
      }
      if (inFlight >= maxInFlight) {
        const earliest = earliestExpiry(state)
        const retryAfterMs = inFlight === 0 ? nextUtcMidnight(now) - now : earliest - now
        return { ok: false, reason: 'CONCURRENCY_LIMIT', retryAfterMs, inFlight, quotaUsed }
      }
      state.reservations.set(reservationId, { expiresAt: now + ttlMs, day })
      state.quotaUsed++
      return { ok: true, inFlight: inFlight + 1, quotaUsed: state.quotaUsed }
    },

    async confirmJob ({ clientId, reservationId, requestId, ownershipTtlMs, jobTtlMs, now = Date.now() }: ConfirmJobInput): Promise<void> {
      // The job is real once fal accepted it, so it counts even if its reservation has lapsed.
      const state = stateFor(clientId, now)
      state.reservations.delete(reservationId)
      state.jobs.set(requestId, now + jobTtlMs)
      owners.delete(requestId)
      owners.set(requestId, { clientId, expiresAt: now + ownershipTtlMs })
      for (const oldest of owners.keys()) {
        if (owners.size <= maxOwnedRequests) break
        owners.delete(oldest)
      }
    },

    async cancelReservation ({ clientId, reservationId, refundQuota, now = Date.now() }: CancelReservationInput): Promise<void> {
      const state = clients.get(clientId)
      const slot = state?.reservations.get(reservationId)
      if (state === undefined || slot === undefined) return
      state.reservations.delete(reservationId)
      if (refundQuota && slot.expiresAt > now && slot.day === state.quotaDay && state.quotaUsed > 0) state.quotaUsed--
    },

    async releaseJob ({ requestId }: { requestId: string }): Promise<void> {
      const record = ownerRecord(requestId)
      if (record !== undefined) clients.get(record.clientId)?.jobs.delete(requestId)
    },

    async ownerOf (requestId: string): Promise<string | undefined> {
      return ownerRecord(requestId)?.clientId
    },

    async close (): Promise<void> {
      clients.clear()
      owners.clear()
    }
  }
}

/** A loop, not Math.min(...values): a tier may allow more jobs than a call has arguments. */
function earliestExpiry (state: ClientState): number {
  let earliest = Infinity
  for (const slot of state.reservations.values()) earliest = Math.min(earliest, slot.expiresAt)
  for (const expiresAt of state.jobs.values()) earliest = Math.min(earliest, expiresAt)
  return earliest
}

function dropExpired (state: ClientState, now: number): void {
  for (const [reservationId, slot] of state.reservations) {
    if (slot.expiresAt <= now) state.reservations.delete(reservationId)
  }
  for (const [requestId, expiresAt] of state.jobs) {
    if (expiresAt <= now) state.jobs.delete(requestId)
  }
}
