import { MAX_DEAD_LETTERS, type ClientDelivery, type DeliveryQueue, type DeliveryTarget } from './delivery-queue.js'

/** Expected targets kept before the oldest are dropped. */
const MAX_TARGETS = 100_000

/** One replica's deliveries, lost on restart: for a gateway without Redis. */
export function createMemoryDeliveryQueue (): DeliveryQueue {
  const targets = new Map<string, { target: DeliveryTarget, expiresAt: number }>()
  const queued = new Map<string, { delivery: ClientDelivery, dueAt: number }>()
  const dead = new Map<string, ClientDelivery>()

  return {
    async expect (target, ttlMs) {
      targets.delete(target.requestId)
      targets.set(target.requestId, { target, expiresAt: Date.now() + ttlMs })
      for (const [id] of targets) {
        if (targets.size <= MAX_TARGETS) break
        targets.delete(id)
      }
    },
    async handOver (requestId, body, now = Date.now()) {
      const entry = targets.get(requestId)
      targets.delete(requestId)
      if (entry === undefined || entry.expiresAt <= now) return false
      queued.set(requestId, { delivery: { ...entry.target, id: requestId, body, attempts: 0, createdAt: now }, dueAt: now })
      return true
    },
    async claim (now, leaseMs, max) {
      const due: ClientDelivery[] = []
      for (const entry of queued.values()) {
        if (due.length >= max) break
        if (entry.dueAt > now) continue
        entry.dueAt = now + leaseMs
        due.push({ ...entry.delivery })
      }
      return due
    },
    async succeeded (id) {
      queued.delete(id)
    },
    async failed (delivery, retryAt, now = Date.now()) {
      if (retryAt !== undefined) {
        queued.set(delivery.id, { delivery, dueAt: retryAt })
        return
      }
      queued.delete(delivery.id)
      dead.delete(delivery.id)
      dead.set(delivery.id, { ...delivery, failedAt: now })
      if (dead.size > MAX_DEAD_LETTERS) dead.delete(dead.keys().next().value as string)
    },
    async deadLetters (limit) {
      return [...dead.values()].reverse().slice(0, limit)
    },
    async replay (id, now = Date.now()) {
      const letter = dead.get(id)
      if (letter === undefined) return false
      dead.delete(id)
      const { failedAt: _failedAt, ...delivery } = letter
      queued.set(id, { delivery: { ...delivery, attempts: 0 }, dueAt: now })
      return true
    }
  }
}
