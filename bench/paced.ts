import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { Pool } from 'undici'
import type { Poll } from './load.js'
import { percentile } from './stats.js'

export interface PacedOptions {
  url: string
  /** Requests per second, spread evenly over each second. */
  rate: number
  durationS: number
  connections: number
  next: () => Poll
}

export interface PacedResult {
  rps: number
  p50: number
  p99: number
  failures: number
}

/**
 * An open-loop load at a steady rate: requests start on an even schedule, whether or not earlier
 * ones have answered. autocannon's `overallRate` is not that: each connection sends its quota for
 * the second back to back at the start of it, so half the load arrives as a burst at full speed.
 */
export async function runPaced (options: PacedOptions): Promise<PacedResult> {
  const pool = new Pool(options.url, { connections: options.connections, pipelining: 1 })
  const total = Math.round(options.rate * options.durationS)
  const latencies = new Float64Array(total)
  let answered = 0
  let failures = 0
  const pending = new Set<Promise<void>>()

  const fire = () => {
    const poll = options.next()
    const startedAt = performance.now()
    const call = pool.request({ path: poll.path, method: 'GET', headers: poll.headers })
      .then(async response => {
        await response.body.dump()
        if (response.statusCode >= 200 && response.statusCode < 300) latencies[answered++] = performance.now() - startedAt
        else failures++
      }, () => { failures++ })
      .finally(() => { pending.delete(call) })
    pending.add(call)
  }

  const start = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * options.rate))
    for (; sent < due; sent++) fire()
    await sleep(1)
  }
  await Promise.all(pending)
  const elapsedS = (performance.now() - start) / 1000
  await pool.close()

  const sorted = latencies.subarray(0, answered).sort()
  return { rps: answered / elapsedS, p50: percentile(sorted, 50), p99: percentile(sorted, 99), failures }
}
