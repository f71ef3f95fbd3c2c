import { LRUCache } from 'lru-cache'
import type { LimitStore } from './limit-store.js'

export interface OwnerCacheOptions {
  /** Owners remembered at most; the least recently asked about is dropped first. */
  maxEntries: number
  /** How long an owner is remembered: an ownership that lapses in the store stays reachable here at most this much longer. */
  ttlMs: number
}

/**
 * Who owns a request never changes: the owner is written once (confirmJob) and then only
 * expires. So a replica remembers the owners it has written or read, and a job's repeated polls
 * ask the shared store once instead of on every poll (with Redis, one command less per poll).
 * Only owners found are remembered: "no owner" is asked again each time, since the owner may
 * still be on its way from the replica that took the submit.
 */
export function withOwnerCache (store: LimitStore, { maxEntries, ttlMs }: OwnerCacheOptions): LimitStore {
  const owners = new LRUCache<string, string>({ max: maxEntries, ttl: ttlMs })

  async function lookUp (requestId: string): Promise<string | undefined> {
    const owner = await store.ownerOf(requestId)
    if (owner !== undefined) owners.set(requestId, owner)
    return owner
  }

  return {
    reserveJob: input => store.reserveJob(input),
    async confirmJob (input) {
      await store.confirmJob(input)
      owners.set(input.requestId, input.clientId)
    },
    cancelReservation: input => store.cancelReservation(input),
    releaseJob: input => store.releaseJob(input),
    ownerOf (requestId) {
      const known = owners.get(requestId)
      return known === undefined ? lookUp(requestId) : Promise.resolve(known)
    },
    close: () => store.close()
  }
}
