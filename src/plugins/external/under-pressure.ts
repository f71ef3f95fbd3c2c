import fp from 'fastify-plugin'
import underPressure from '@fastify/under-pressure'
import { getHeapStatistics } from 'node:v8'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { Overloaded } from '../../errors/gateway-errors.js'

const RETRY_AFTER_SECONDS = 5
/** Default heap ceiling: shed load well before V8 runs out and the process dies mid-request. */
const DEFAULT_HEAP_FRACTION = 0.9
/** Probes and the scraper answer even under pressure: a busy node is alive, and worth watching. */
const ALWAYS_SERVED = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * Load shedding (`@fastify/under-pressure`): while the event loop lags more than
 * MAX_EVENT_LOOP_DELAY_MS or the heap holds more than MAX_HEAP_USED_BYTES (default 90% of V8's
 * limit), new requests get 503 `OVERLOADED` with `Retry-After`, before any work or upstream call.
 */
export default fp<{ pressure: Config['pressure'] }>(async function loadShedding (fastify, { pressure }) {
  const maxHeapUsedBytes = pressure.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * DEFAULT_HEAP_FRACTION)
  await fastify.register(underPressure, {
    maxEventLoopDelay: pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes,
    pressureHandler: async (request: FastifyRequest, reply: FastifyReply) => {
      if (ALWAYS_SERVED.has(request.routeOptions.url ?? '')) return
      throw new Overloaded(RETRY_AFTER_SECONDS)
    }
  })
}, { name: 'load-shedding' })
