import type { EventEmitter } from 'node:events'
import autocannon from 'autocannon'
import { percentile } from './stats.js'

export interface Poll {
  path: string
  headers: Record<string, string>
}

export interface LoadOptions {
  url: string
  connections: number
  durationS: number
  /** A fixed number of requests instead of a duration (CPU per poll over a known count). */
  amount?: number
  /** Requests per second across all connections; unset means as fast as the target answers. */
  overallRate?: number
  /** The next poll; called for every request, so the load can cycle through many request ids. */
  next: () => Poll
}

export interface LoadResult {
  /** 2xx answers; the others are counted in `non2xx` and make no part of req/s or latency. */
  responses: number
  rps: number
  /** Milliseconds, from every response's own timing (autocannon's histogram rounds to whole ms). */
  p50: number
  p99: number
  non2xx: number
  errors: number
  timeouts: number
}

/** One autocannon run against one target. */
export async function runLoad (options: LoadOptions): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 17)
  let count = 0
  const record = (ms: number) => {
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2)
      grown.set(latencies)
      latencies = grown
    }
    latencies[count++] = ms
  }

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon({
      url: options.url,
      connections: options.connections,
      duration: options.durationS,
      amount: options.amount,
      overallRate: options.overallRate,
      timeout: 10,
      requests: [{
        method: 'GET',
        setupRequest: (request) => {
          const poll = options.next()
          request.path = poll.path
          request.headers = { ...request.headers, ...poll.headers }
          return request
        }
      }]
    }, (error, done) => {
      if (error !== null && error !== undefined) reject(error)
      else resolve(done)
    })
    // The tracker emits (client, status, bytes, ms); @types/autocannon omits the client.
    ;(instance as EventEmitter).on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
      // A shed or refused poll is answered fast: counting it would flatter the target.
      if (status >= 200 && status < 300) record(ms)
    })
  })

  const sorted = latencies.subarray(0, count).sort()
  return {
    responses: count,
    rps: count / result.duration,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts
  }
}
