import type { LimitStore } from './limit-store.js'
import { StoreUnavailable } from '../errors/gateway-errors.js'

/**
 * REDIS_FAIL_MODE=open: while the shared store is unreachable each replica counts in its own
 * memory (limits hold per replica instead of across them) and records ownership there, so a
 * request submitted during the outage stays reachable from this replica afterwards.
 */
export function createFallbackStore (primary: LimitStore, fallback: LimitStore, onFallback: (error: unknown) => void): LimitStore {
  async function either<T> (run: (store: LimitStore) => Promise<T>): Promise<T> {
    try {
      return await run(primary)
    } catch (error) {
      if (!(error instanceof StoreUnavailable)) throw error
      onFallback(error)
      return await run(fallback)
    }
  }

  return {
    reserveJob: (input) => either(store => store.reserveJob(input)),
    confirmJob: (input) => either(store => store.confirmJob(input)),
    cancelReservation: (input) => either(store => store.cancelReservation(input)),
    async releaseJob (input) {
      await Promise.allSettled([fallback.releaseJob(input)])
      await either(store => store.releaseJob(input))
    },
    async ownerOf (requestId) {
      const owner = await either(store => store.ownerOf(requestId))
      return owner ?? await fallback.ownerOf(requestId)
    },
    async close () {
      await Promise.all([primary.close(), fallback.close()])
    }
  }
}
