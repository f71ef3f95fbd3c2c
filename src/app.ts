import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { randomUUID } from 'node:crypto'
import type { Config } from './config.js'
import { loggerOptions } from './logger.js'
import { ValidationFailed } from './errors/gateway-errors.js'
import { toFieldErrors } from './errors/validation-detail.js'
import { ErrorSchema } from './schemas/errors.js'
import errorHandler from './plugins/app/error-handler.js'
import readiness from './plugins/app/readiness.js'
import jsonBody from './plugins/app/json-body.js'
import upstream from './plugins/app/upstream.js'
import catalog from './plugins/app/catalog.js'
import redis from './plugins/app/redis.js'
import limitStore from './plugins/app/limit-store.js'
import admission from './plugins/app/admission.js'
import jobs from './plugins/app/jobs.js'
import swagger from './plugins/external/swagger.js'
import cors from './plugins/external/cors.js'
import apiSecurityHeaders from './plugins/app/api-security-headers.js'
import loadShedding from './plugins/app/load-shedding.js'
import draining from './plugins/app/draining.js'
import metrics from './plugins/app/metrics.js'
import adminAuth from './plugins/app/admin-auth.js'
import spend from './plugins/app/spend.js'
import webhooks from './webhooks/index.js'
import statusStreams from './plugins/app/status-streams.js'
import streamSlots from './plugins/app/stream-slots.js'
import healthRoutes from './routes/health.js'
import queueRoutes from './routes/queue/index.js'
import proxyRoutes from './routes/proxy.js'
import priceRoutes from './routes/price.js'
import usageRoutes from './routes/usage.js'
import adminUsageRoutes from './routes/admin-usage.js'
import pages from './plugins/external/pages.js'
import { modelFormsOf } from './demo/model-forms.js'

export interface BuildOptions {
  /** Overrides the logger (tests pass `false` or a stream-backed pino config). */
  logger?: FastifyServerOptions['logger']
}

/** How often Node looks for requests past their headers or request timeout (its default is 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000

const INCOMING_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/

/** Builds the whole gateway from a validated config. Tests and production build this same app. */
export async function buildApp (config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions(config),
    trustProxy: config.trustProxy.length > 0 ? config.trustProxy : false,
    bodyLimit: config.bodyLimit,
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    connectionTimeout: config.server.connectionTimeoutMs,
    http: { headersTimeout: config.server.headersTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    // The drain answers in the gateway's error shape instead (plugins/app/draining.ts).
    return503OnClosing: false,
    requestIdHeader: false,
    genReqId: (request) => {
      const incoming = request.headers['x-request-id']
      return typeof incoming === 'string' && INCOMING_REQUEST_ID.test(incoming) ? incoming : randomUUID()
    },
    ajv: {
      customOptions: {
        // Unknown fields are refused, not silently dropped; types are never coerced.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: true,
        allErrors: true,
        verbose: true
      }
    },
    schemaErrorFormatter: (errors, context) => new ValidationFailed(toFieldErrors(errors, context))
  }).withTypeProvider<TypeBoxTypeProvider>()

  app.addSchema(ErrorSchema)
  // Hooks on every request take `done` rather than being async: no promise per request.
  app.addHook('onRequest', (request, reply, done) => { reply.header('x-request-id', request.id); done() })

  await app.register(errorHandler)
  await app.register(readiness)
  await app.register(jsonBody)
  await app.register(apiSecurityHeaders)
  await app.register(cors, { origins: config.corsOrigins, allowLoopback: config.corsLoopbackOrigins })
  await app.register(draining, { graceMs: config.shutdownGraceMs })
  await app.register(loadShedding, { pressure: config.pressure })
  await app.register(catalog, { config })
  await app.register(swagger)
  await app.register(redis, { config })
  await app.register(limitStore, { config })
  await app.register(upstream, { config })
  await app.register(admission, { config })
  await app.register(metrics, { config })
  await app.register(adminAuth, { config })
  await app.register(spend, { config })
  await app.register(streamSlots, { config })
  await app.register(jobs, { config })
  await app.register(webhooks, { config })
  await app.register(statusStreams, { config })
  await app.register(healthRoutes)
  await app.register(queueRoutes, { config })
  await app.register(proxyRoutes, { config })
  await app.register(usageRoutes)
  await app.register(priceRoutes)
  await app.register(adminUsageRoutes)
  await app.register(pages, { demoEnabled: config.demoEnabled, forms: modelFormsOf(app.catalog.endpoints) })

  return app
}
