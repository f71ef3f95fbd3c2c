import { randomUUID } from 'node:crypto'
import { createMemoryLimitStore } from '../../src/limits/memory-store.js'

/**
 * Resident memory of the memory LimitStore holding N tracked requests, in a fresh process run with
 * --expose-gc. argv: <count> <in-flight|completed>. "in-flight" records ownership with confirmJob
 * (the job still counts against its client); "completed" also releases each job, as the gateway does
 * once fal reports it done, leaving only the ownership record. Prints one JSON line.
 */
const count = Number(process.argv[2] ?? 1_000_000)
const mode = process.argv[3] === 'completed' ? 'completed' : 'in-flight'
const CLIENTS = 1000
const DAY_MS = 24 * 60 * 60 * 1000

/**
 * A request id as the gateway holds it: parsed out of fal's JSON answer, so a flat string.
 * randomUUID()'s own result is a rope of ~20 concatenated pieces that costs ~400 bytes more.
 */
function requestIdFromFal (): string {
  return (JSON.parse(`{"request_id":"${randomUUID()}"}`) as { request_id: string }).request_id
}

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')
const settle = () => { gc(); gc() }

const store = createMemoryLimitStore({ maxOwnedRequests: count, maxClients: CLIENTS })
const clients = Array.from({ length: CLIENTS }, (_, i) => `key:benchmark-client-${i}`)
settle()
const before = process.memoryUsage()

for (let i = 0; i < count; i++) {
  const clientId = clients[i % CLIENTS] as string
  const requestId = requestIdFromFal()
  await store.confirmJob({ clientId, reservationId: `r${i}`, requestId, ownershipTtlMs: DAY_MS, jobTtlMs: DAY_MS })
  if (mode === 'completed') await store.releaseJob({ requestId })
}
settle()
const after = process.memoryUsage()

process.stdout.write(JSON.stringify({
  mode,
  count,
  clients: CLIENTS,
  rssBytesPerRequest: (after.rss - before.rss) / count,
  heapBytesPerRequest: (after.heapUsed - before.heapUsed) / count,
  rssBefore: before.rss,
  rssAfter: after.rss
}) + '\n')
// Keeps the store reachable until after the second reading.
await store.close()
