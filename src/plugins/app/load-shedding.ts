import fp from 'fastify-plugin'
import { getHeapStatistics } from 'node:v8'
import type { Config } from '../../config.js'
import { Overloaded } from '../../errors/gateway-errors.js'
import { createPressureGauge, type PressureGauge } from '../../pressure/pressure-gauge.js'

const RETRY_AFTER_SECONDS = 5
const SAMPLE_INTERVAL_MS = 1000
/** Default heap ceiling: shed load well before V8 runs out and the process dies mid-request. */
const DEFAULT_HEAP_FRACTION = 0.9
/** Probes and the scraper answer even under pressure: a busy node is alive, and worth watching. */
const ALWAYS_SERVED = new Set(['/healthz', '/readyz', '/metrics'])

declare module 'fastify' {
  interface FastifyInstance {
    /** Load as the node sees it: /readyz answers 503 while `overloaded`. */
    pressure: PressureGauge
  }
}

/**
 * Load shedding. While the event loop lags more than MAX_EVENT_LOOP_DELAY_MS or the heap holds
 * more than MAX_HEAP_USED_BYTES, /readyz answers 503; once that has lasted LOAD_SHED_GRACE_MS,
 * new requests get 503 `OVERLOADED` with `Retry-After`, before any work or upstream call. The
 * gauge runs from listen: start-up work is not load, and a node never sheds while it says ready.
 */
export default fp<{ pressure: Config['pressure'] }>(async function loadShedding (fastify, { pressure }) {
  const gauge = createPressureGauge({
    maxEventLoopDelayMs: pressure.maxEventLoopDelayMs,
    maxHeapUsedBytes: pressure.maxHeapUsedBytes ?? Math.floor(getHeapStatistics().heap_size_limit * DEFAULT_HEAP_FRACTION),
    graceMs: pressure.graceMs,
    sampleIntervalMs: SAMPLE_INTERVAL_MS
  })
  fastify.decorate('pressure', gauge)
  fastify.addHook('onListen', (done) => { gauge.start(); done() })
  fastify.addHook('onClose', (_instance, done) => { gauge.stop(); done() })

  fastify.addHook('onRequest', (request, _reply, done) => {
    if (!gauge.shedding || ALWAYS_SERVED.has(request.routeOptions.url ?? '')) done()
    else done(new Overloaded(RETRY_AFTER_SECONDS))
  })
}, { name: 'load-shedding' })
