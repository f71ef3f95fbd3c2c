import { setMaxListeners } from 'node:events'
import type { AddressInfo } from 'node:net'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify'
import { CallLog, type EmulatorCall, type Operation } from './calls.js'
import { controlRoutes } from './control-routes.js'
import { Faults, type FaultSwitch } from './faults.js'
import { billingRoutes } from './billing-routes.js'
import { imageRoutes } from './image-routes.js'
import { JobStore, type Hold, type HoldOutcome, type Release } from './jobs.js'
import { loadEmulatedModels, type EmulatedModel } from './models.js'
import { platformRoutes } from './platform-routes.js'
import { queueRoutes } from './queue-routes.js'
import { runRoutes } from './run-routes.js'
import { storageRoutes } from './storage-routes.js'
import { webhookRoutes } from './webhook-routes.js'
import { Webhooks } from './webhooks.js'

export type { EmulatorCall, Operation } from './calls.js'
export type { Fault, FaultSwitch } from './faults.js'
export type { Webhooks } from './webhooks.js'
export type { Hold, HoldOutcome, HeldPhase, Release } from './jobs.js'

export interface EmulatorOptions {
  /** Expected credentials: requests must carry `Authorization: Key <falKey>`. */
  falKey: string
  /** The admin-scoped key of fal's billing events (default: `falKey`). */
  adminKey?: string
  /** Time spent IN_QUEUE (default 1000). */
  queueMs?: number
  /** Time spent IN_PROGRESS, emitting logs (default 2000). */
  processingMs?: number
  /** Base of the URLs the emulator hands out; default the listening address. */
  publicUrl?: string
  logger?: boolean
  /** Jobs kept before the oldest are evicted (default 200 000; jobs also expire after 1 h). */
  maxJobs?: number
  /** Calls kept in the log before the oldest are dropped (default 10 000). */
  maxCalls?: number
  /** Waits before each webhook retry (default fal's: 9 retries over about 2 hours). */
  webhookRetryDelaysMs?: number[]
  /** fal's documents of the endpoints to play, with platform.json (default src/emulator/fal-documents). */
  library?: string
  /** A gateway catalog (MODELS_DIR) whose endpoints are played too, from fal's documents in its files. */
  modelsDir?: string
}

export interface Emulator {
  app: FastifyInstance
  /** Resolves to the base URL, e.g. http://127.0.0.1:41234. */
  listen (port?: number, host?: string): Promise<string>
  close (): Promise<void>
  /** Every fal call received (not control endpoints), in order. */
  readonly calls: EmulatorCall[]
  callsOf (operation: Operation): EmulatorCall[]
  resetCalls (): void
  faults: FaultSwitch
  /** Signed webhook deliveries: the key pair, the JWKS switch, the tamper switch, what was sent. */
  webhooks: Webhooks
  /** Holds jobs at the end of a phase until released, so tests drive phases instead of racing them. */
  jobs: JobControl
  /** The endpoints played, by endpoint id. */
  models: ReadonlyMap<string, EmulatedModel>
}

export interface JobControl {
  hold (hold: Hold): HoldOutcome
  release (release?: Release): void
  readonly holds: JobStore['holds']
}

// Submits may carry data-URI images inline, well past Fastify's 1 MiB default.
const BODY_LIMIT = 25 * 1024 * 1024

/**
 * A fal.ai stand-in (queue host, REST storage host, and the run host under `/run`, on one port)
 * for development, tests and benchmarks.
 */
export function createEmulator (options: EmulatorOptions): Emulator {
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: BODY_LIMIT, forceCloseConnections: true })
  const shutdown = new AbortController()
  // Every open stream, hang and delay listens for close.
  setMaxListeners(0, shutdown.signal)
  const calls = new CallLog(options.maxCalls)
  const faults = new Faults()
  const jobs = new JobStore({ queueMs: options.queueMs ?? 1000, processingMs: options.processingMs ?? 2000 }, options.maxJobs)
  const webhooks = new Webhooks(app.log, shutdown.signal, { retryDelaysMs: options.webhookRetryDelaysMs })
  // A held job's webhook waits for its release.
  jobs.onTimelineChange(job => { webhooks.reschedule(job.id, jobs.completesAt(job)) })
  let listenUrl: string | undefined
  const baseUrl = (request: FastifyRequest): string => options.publicUrl ?? listenUrl ?? `${request.protocol}://${request.host}`
  const hooks = { calls, faults, falKey: options.falKey, closing: shutdown.signal }
  const models = loadEmulatedModels(options.library, options.modelsDir)

  // fal's client sends `content-type: application/json` with no body on cancel (and on GETs).
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    if (body === '') return done(null, undefined)
    try {
      done(null, JSON.parse(body as string))
    } catch {
      done(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }), undefined)
    }
  })

  // Errors answer in fal's shape, `{ detail }`.
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500
    if (status >= 500) request.log.error({ err: error }, 'emulator error')
    return reply.code(status).send({ detail: status >= 500 ? 'Internal Server Error' : error.message })
  })
  app.setNotFoundHandler((_request, reply) => reply.code(404).send({ detail: 'Not Found' }))

  controlRoutes(app, { calls, faults, jobs })
  storageRoutes(app, { hooks, baseUrl })
  imageRoutes(app, hooks)
  platformRoutes(app, { models, falKey: options.falKey })
  queueRoutes(app, { hooks, jobs, webhooks, models, baseUrl })
  runRoutes(app, { hooks, jobs, models, baseUrl })
  webhookRoutes(app, { jobs, webhooks, baseUrl })
  billingRoutes(app, { hooks, jobs, adminKey: options.adminKey ?? options.falKey })

  return {
    app,
    async listen (port = 0, host = '127.0.0.1') {
      await app.listen({ port, host })
      const address = app.server.address() as AddressInfo
      const hostname = address.family === 'IPv6' ? `[${address.address}]` : address.address
      listenUrl = `http://${hostname}:${address.port}`
      return listenUrl
    },
    async close () {
      shutdown.abort()
      webhooks.close()
      await app.close()
    },
    get calls () {
      return calls.all
    },
    callsOf: operation => calls.of(operation),
    resetCalls: () => { calls.reset() },
    faults,
    webhooks,
    models,
    jobs: {
      hold: hold => jobs.hold(hold),
      release: release => { jobs.release(release) },
      get holds () { return jobs.holds }
    }
  }
}
