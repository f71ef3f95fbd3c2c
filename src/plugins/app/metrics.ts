import fp from 'fastify-plugin'
import { createHash, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { MetricsUnauthorized } from '../../errors/gateway-errors.js'
import { createGatewayMetrics, type GatewayMetrics } from '../../metrics/gateway-metrics.js'

declare module 'fastify' {
  interface FastifyInstance {
    metrics: GatewayMetrics
  }
  interface FastifyRequest {
    /** The `code` of the error this request was answered with, for the refusal counter. */
    refusalCode: string | undefined
  }
}

const UNMATCHED_ROUTE = 'unmatched'
const MAX_PARSED_ERROR_BYTES = 16 * 1024

const digest = (text: string): Buffer => createHash('sha256').update(text).digest()

/** The `code` of a JSON error body, as the error handler wrote it. */
function errorCodeOf (payload: unknown): string | undefined {
  if (typeof payload !== 'string' || payload.length > MAX_PARSED_ERROR_BYTES) return undefined
  try {
    const code = (JSON.parse(payload) as { code?: unknown }).code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}

/**
 * Prometheus metrics: requests by route pattern and status, calls to fal by model, operation and
 * outcome, refusals by code and tier, jobs in flight, circuit state and Redis errors.
 * `/metrics` is served on the main port only when METRICS_TOKEN is set, and then only to
 * `Authorization: Bearer <token>`; METRICS_PORT serves it without a token (see lifecycle.ts).
 */
export default fp<{ config: Config }>(async function metrics (fastify, { config }) {
  const gauges = createGatewayMetrics()
  fastify.decorate('metrics', gauges)
  fastify.decorateRequest('refusalCode', undefined)

  // Model labels are the catalog's ids only, anything else `other`, so a client cannot mint label values.
  const models = new Set(fastify.catalog.endpoints.flatMap(endpoint => [endpoint.id, endpoint.appId]))
  const stopObserving = fastify.upstream.onCall(({ operation, model, outcome, seconds }) => {
    const labels = { model: model === 'storage' || models.has(model) ? model : 'other', operation, outcome }
    gauges.upstreamCalls.inc(labels)
    gauges.upstreamDuration.observe(labels, seconds)
  })
  const { breakers } = fastify.upstream
  for (const { operation, state } of breakers.states()) gauges.reportCircuitState(operation, state)
  const stopWatchingBreakers = breakers.onEvent(event => { gauges.reportCircuitState(event.operation, event.state) })
  fastify.addHook('onClose', async () => {
    stopObserving()
    stopWatchingBreakers()
  })

  fastify.redis?.on('error', () => { gauges.redisErrors.inc() })
  // A Cluster reports each node's connection errors apart from its own.
  fastify.redis?.on('node error', () => { gauges.redisErrors.inc() })

  gauges.countJobsWith(() => fastify.jobs.inFlightHere())

  // Callback hooks on every request (no promise each); counted after the answer has gone out.
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode >= 400) request.refusalCode = errorCodeOf(payload)
    done(null, payload)
  })

  fastify.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done) => {
    const labels = { route: request.routeOptions.url ?? UNMATCHED_ROUTE, method: request.method, status: String(reply.statusCode) }
    gauges.httpRequests.inc(labels)
    gauges.httpDuration.observe(labels, reply.elapsedTime / 1000)
    if (reply.statusCode >= 400) {
      gauges.refusals.inc({ code: request.refusalCode ?? `HTTP_${reply.statusCode}`, tier: request.client?.tier ?? 'none' })
    }
    done()
  })

  const token = config.metrics.token
  if (token === undefined) return
  const expected = digest(`Bearer ${token}`)
  fastify.get('/metrics', { schema: { hide: true }, logLevel: 'warn' }, async (request, reply) => {
    const given = request.headers.authorization
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      reply.header('www-authenticate', 'Bearer')
      throw new MetricsUnauthorized()
    }
    return reply.type(gauges.registry.contentType).send(await gauges.registry.metrics())
  })
}, { name: 'metrics', dependencies: ['redis', 'upstream', 'catalog'] })
