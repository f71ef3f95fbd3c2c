import { fileURLToPath } from 'node:url'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { DEFAULT_FALLBACK_UNITS, parseFallbackUnits, type FallbackUnits } from './spend/price-units.js'

/** The catalog shipped with the gateway: `models/` beside `src/` (and beside `dist/` when built). */
const DEFAULT_MODELS_DIR = fileURLToPath(new URL('../models', import.meta.url))

/**
 * Every setting the gateway reads, in one schema. `loadConfig` is the only place that turns the
 * environment into settings; everything else receives a validated `Config`.
 */
export const EnvSchema = Type.Object({
  NODE_ENV: Type.Union([Type.Literal('development'), Type.Literal('production'), Type.Literal('test')], { default: 'production' }),
  FAL_KEY: Type.Optional(Type.String({ minLength: 1 })),
  FAL_KEY_ID: Type.Optional(Type.String({ minLength: 1 })),
  FAL_KEY_SECRET: Type.Optional(Type.String({ minLength: 1 })),
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ minLength: 1, default: '0.0.0.0' }),
  LOG_LEVEL: Type.Union(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map(l => Type.Literal(l)), { default: 'info' }),
  PUBLIC_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' })),
  CORS_ORIGINS: Type.String({ default: '' }),
  BODY_LIMIT: Type.Integer({ minimum: 1024, default: 10 * 1024 * 1024 }),
  FAL_QUEUE_URL: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$', default: 'https://queue.fal.run' }),
  FAL_REST_URL: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$', default: 'https://rest.fal.ai' }),
  FAL_RUN_URL: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$', default: 'https://fal.run' }),
  FAL_API_URL: Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$', default: 'https://api.fal.ai' }),
  // Unset means the install's own models/: a default path would differ with every checkout.
  MODELS_DIR: Type.Optional(Type.String({ minLength: 1 })),
  TRUST_PROXY: Type.String({ default: '' }),
  WEBHOOK_HOSTS: Type.String({ default: '' }),
  FAL_WEBHOOKS: Type.Union([Type.Literal('on'), Type.Literal('off')], { default: 'off' }),
  FAL_JWKS_URL: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+(/[^?#]*)?$' })),
  FAL_JWKS_MIN_REFRESH_MS: Type.Integer({ minimum: 0, default: 30_000 }),
  FAL_WEBHOOK_BODY_LIMIT: Type.Integer({ minimum: 1024, default: 2 * 1024 * 1024 }),
  WEBHOOK_SECRET: Type.Optional(Type.String({ pattern: '^whsec_[A-Za-z0-9+/]{32,}={0,2}$' })),
  WEBHOOK_MAX_ATTEMPTS: Type.Integer({ minimum: 1, maximum: 100, default: 10 }),
  WEBHOOK_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 30_000 }),
  WEBHOOK_RETRY_MAX_MS: Type.Integer({ minimum: 1, default: 30 * 60_000 }),
  WEBHOOK_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  WEBHOOK_ALLOW_LOOPBACK: Type.Boolean({ default: false }),
  EVENTS_HEARTBEAT_MS: Type.Integer({ minimum: 100, default: 15_000 }),
  RATE_LIMIT_SUBMIT_MAX: Type.Integer({ minimum: 1, default: 10 }),
  RATE_LIMIT_SUBMIT_WINDOW: Type.Integer({ minimum: 1000, default: 60_000 }),
  RATE_LIMIT_POLL_MAX: Type.Integer({ minimum: 1, default: 600 }),
  RATE_LIMIT_POLL_WINDOW: Type.Integer({ minimum: 1000, default: 60_000 }),
  RATE_LIMIT_UPLOAD_MAX: Type.Integer({ minimum: 1, default: 20 }),
  RATE_LIMIT_UPLOAD_WINDOW: Type.Integer({ minimum: 1000, default: 60_000 }),
  MAX_IN_FLIGHT: Type.Integer({ minimum: 0, default: 10 }),
  DAILY_SUBMIT_QUOTA: Type.Integer({ minimum: 0, default: 1000 }),
  ANONYMOUS_ENABLED: Type.Boolean({ default: true }),
  POLICY_FILE: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  REDIS_SENTINELS: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_SENTINEL_NAME: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_SENTINEL_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_CLUSTER_NODES: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_USERNAME: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_PASSWORD: Type.Optional(Type.String({ minLength: 1 })),
  REDIS_FAIL_MODE: Type.Union([Type.Literal('closed'), Type.Literal('open')], { default: 'closed' }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 500 }),
  REDIS_WAIT_REPLICAS: Type.Integer({ minimum: 0, default: 0 }),
  REDIS_WAIT_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 100 }),
  OWNERSHIP_TTL_MS: Type.Integer({ minimum: 1000, default: 24 * 3600_000 }),
  JOB_TTL_MS: Type.Integer({ minimum: 1000, default: 3600_000 }),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 30_000 }),
  UPSTREAM_TIMEOUT_SUBMIT_MS: Type.Optional(Type.Integer({ minimum: 1 })),
  UPSTREAM_TIMEOUT_STATUS_MS: Type.Optional(Type.Integer({ minimum: 1 })),
  UPSTREAM_TIMEOUT_RESULT_MS: Type.Optional(Type.Integer({ minimum: 1 })),
  UPSTREAM_TIMEOUT_CANCEL_MS: Type.Optional(Type.Integer({ minimum: 1 })),
  UPSTREAM_TIMEOUT_UPLOAD_MS: Type.Optional(Type.Integer({ minimum: 1 })),
  UPSTREAM_TIMEOUT_RUN_MS: Type.Integer({ minimum: 1, default: 300_000 }),
  UPSTREAM_RETRIES: Type.Integer({ minimum: 0, maximum: 10, default: 2 }),
  UPSTREAM_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 100 }),
  UPSTREAM_RETRY_MAX_MS: Type.Integer({ minimum: 1, default: 2000 }),
  BREAKER_ERROR_THRESHOLD_PERCENT: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
  BREAKER_VOLUME_THRESHOLD: Type.Integer({ minimum: 1, default: 10 }),
  BREAKER_RESET_MS: Type.Integer({ minimum: 100, default: 10_000 }),
  BREAKER_WINDOW_MS: Type.Integer({ minimum: 1000, default: 10_000 }),
  POLL_CACHE_MAX_BYTES: Type.Integer({ minimum: 0, default: 64 * 1024 * 1024 }),
  POLL_PENDING_FRESH_MS: Type.Integer({ minimum: 0, default: 250 }),
  POLL_COMPLETED_TTL_MS: Type.Integer({ minimum: 0, default: 3600_000 }),
  STREAM_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 15 * 60_000 }),
  MAX_STREAMS_PER_CLIENT: Type.Integer({ minimum: 1, default: 32 }),
  MAX_STREAMS_PER_NODE: Type.Integer({ minimum: 1, default: 10_000 }),
  UPSTREAM_STREAM_CONNECTIONS: Type.Integer({ minimum: 1, default: 1024 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  REQUEST_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 60_000 }),
  HEADERS_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 10_000 }),
  KEEP_ALIVE_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 72_000 }),
  CONNECTION_TIMEOUT_MS: Type.Integer({ minimum: 0, default: 0 }),
  MAX_EVENT_LOOP_DELAY_MS: Type.Integer({ minimum: 0, default: 1000 }),
  MAX_HEAP_USED_BYTES: Type.Optional(Type.Integer({ minimum: 0 })),
  LOAD_SHED_GRACE_MS: Type.Integer({ minimum: 0, default: 5000 }),
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  METRICS_PORT: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
  ADMIN_TOKEN: Type.Optional(Type.String({ minLength: 16 })),
  DEMO_ENABLED: Type.Optional(Type.Boolean()),
  GLOBAL_BUDGET_DAY_MICRO_USD: Type.Optional(Type.Integer({ minimum: 0 })),
  GLOBAL_BUDGET_MONTH_MICRO_USD: Type.Optional(Type.Integer({ minimum: 0 })),
  CLIENT_BUDGET_DAY_MICRO_USD: Type.Optional(Type.Integer({ minimum: 0 })),
  CLIENT_BUDGET_MONTH_MICRO_USD: Type.Optional(Type.Integer({ minimum: 0 })),
  PRICE_FALLBACK_UNITS: Type.String({ default: DEFAULT_FALLBACK_UNITS }),
  RESERVATION_EXPIRY_MS: Type.Integer({ minimum: 60_000, default: 3600_000 }),
  RESERVATION_SWEEP_INTERVAL_MS: Type.Integer({ minimum: 1000, default: 30_000 }),
  IDEMPOTENCY_TTL_MS: Type.Integer({ minimum: 60_000, default: 24 * 3600_000 }),
  USAGE_RETENTION_DAYS: Type.Integer({ minimum: 1, maximum: 3660, default: 90 }),
  FAL_ADMIN_KEY: Type.Optional(Type.String({ minLength: 1 }))
})
type Env = Static<typeof EnvSchema>

const BUDGET_SETTINGS = ['GLOBAL_BUDGET_DAY_MICRO_USD', 'GLOBAL_BUDGET_MONTH_MICRO_USD', 'CLIENT_BUDGET_DAY_MICRO_USD', 'CLIENT_BUDGET_MONTH_MICRO_USD'] as const

/** The names of every setting, for documentation checks. */
export const SETTING_NAMES: readonly string[] = Object.keys(EnvSchema.properties)

export interface Config {
  /** fal credentials as the client sends them: `key` or `id:secret`. Never logged. */
  falKey: string
  port: number
  host: string
  logLevel: Env['LOG_LEVEL']
  publicUrl?: string
  corsOrigins: string[]
  /** Development only: any `http://localhost:<port>` or `http://127.0.0.1:<port>` origin too. */
  corsLoopbackOrigins: boolean
  bodyLimit: number
  falQueueUrl: string
  falRestUrl: string
  /** fal's synchronous host (`fal.run` and `fal.stream`). */
  falRunUrl: string
  /** fal's platform API (model documents and prices), read by `npm run models`. */
  falApiUrl: string
  /** The catalog: `<owner>/<alias…>.json` per served endpoint, loaded at start-up. */
  modelsDir: string
  trustProxy: string[]
  webhookHosts: string[]
  /**
   * fal's webhooks to the gateway (`POST /webhooks/fal`): verified against fal's JWKS (cached,
   * refreshed on an unknown signer at most once per `jwksMinRefreshMs`), bodies up to `bodyLimit`.
   */
  falWebhooks: { enabled: boolean, jwksUrl: string, jwksMinRefreshMs: number, bodyLimit: number }
  /**
   * Outcomes the gateway delivers to clients' own webhooks, signed with `secret` (Standard
   * Webhooks); without a secret, no client webhook is delivered. `allowLoopback` (tests only) lets
   * them reach http://127.0.0.1 and other loopback addresses.
   */
  clientWebhooks: { secret?: string, maxAttempts: number, retryBaseMs: number, retryMaxMs: number, timeoutMs: number, allowLoopback: boolean }
  /** Comment lines on `/events` streams so proxies do not close a quiet one. */
  eventsHeartbeatMs: number
  rateLimits: {
    submit: RateLimit
    poll: RateLimit
    upload: RateLimit
  }
  /**
   * Limits for anonymous clients when no POLICY_FILE is given (the policy file's tiers replace
   * these wholesale when it is).
   */
  defaultTier: {
    maxInFlight: number
    dailySubmitQuota: number
    anonymousEnabled: boolean
  }
  policyFile?: string
  redis?: {
    /** Where Redis is: one server (REDIS_URL), a Sentinel group, or a Cluster. */
    topology: RedisTopology
    /** `closed`: answer 503 while Redis is unreachable; `open`: fall back to this node's memory. */
    failMode: 'closed' | 'open'
    commandTimeoutMs: number
    /**
     * Admission writes (job slots, quotas, ownership) count only once this many replicas hold
     * them (WAIT), so a failover cannot forget them; 0 (default): the master's word is enough.
     */
    replicaAcks: { replicas: number, timeoutMs: number }
  }
  /** How long a client may reach a request it submitted. */
  ownershipTtlMs: number
  /** Safety net: a job stops counting as in flight after this even if nobody saw it finish. */
  jobTtlMs: number
  /** Total deadline of one call to fal, retries included, per operation (default UPSTREAM_TIMEOUT_MS). */
  upstreamTimeouts: UpstreamTimeouts
  /** Retries of idempotent reads (status, result): capped, jittered exponential backoff. */
  upstreamRetry: { retries: number, baseDelayMs: number, maxDelayMs: number }
  /** One circuit breaker per upstream operation. */
  breaker: { errorThresholdPercent: number, volumeThreshold: number, resetMs: number, windowMs: number }
  /** Status and result polls: coalesced always; cached within these bounds (maxBytes 0: off). */
  pollCache: { maxBytes: number, pendingFreshMs: number, completedTtlMs: number }
  /** Longest a status stream may stay open; fal ends it when the job completes. */
  streamTimeoutMs: number
  /**
   * Status streams (typed, proxy, `/events`) one client may hold open on one node, and the
   * connections to fal kept for streams apart from polls and submits (one per watched job).
   */
  streams: { maxPerClient: number, maxPerNode: number, upstreamConnections: number }
  /** How long in-flight requests and streams get to finish after SIGTERM. */
  shutdownGraceMs: number
  /**
   * Node's server timeouts. `requestTimeout` and `headersTimeout` bound how long a client may take
   * to send its request (slow-drip clients get 408 and are cut off); `keepAliveTimeout` must exceed
   * the load balancer's idle timeout; `connectionTimeout` is socket inactivity (0 = off: the
   * upstream and stream deadlines already bound the wait for an answer, and a quiet status stream
   * must not be cut).
   */
  server: { requestTimeoutMs: number, headersTimeoutMs: number, keepAliveTimeoutMs: number, connectionTimeoutMs: number }
  /**
   * Load shedding: overloaded (/readyz 503) when the event loop lags more than this (0 = off) or
   * the heap is this full; new requests get 503 once that has lasted `graceMs`.
   */
  pressure: { maxEventLoopDelayMs: number, maxHeapUsedBytes?: number, graceMs: number }
  /** `/metrics` on the main port behind this bearer token, and/or on its own port. */
  metrics: { token?: string, port?: number }
  /** Bearer token of the operator's `/admin/*` routes; without it they answer 401 to everyone. */
  adminToken?: string
  demoEnabled: boolean
  spend: SpendSettings
}

/** Money: budgets from the environment, pricing fallbacks, reservations, idempotency, the ledger. */
export interface SpendSettings {
  /** The whole fal account per UTC day/month (micro-USD); a policy file's `globalBudget` replaces it. */
  globalBudget: { dayMicroUsd?: number, monthMicroUsd?: number }
  /** Each anonymous client's budget when there is no policy file. */
  clientBudget: { dayMicroUsd?: number, monthMicroUsd?: number }
  /** Units reserved where the input cannot say (compute seconds, characters…), per unit. */
  fallbackUnits: FallbackUnits
  /** A reservation neither settled nor released after this is charged. */
  reservationExpiryMs: number
  /** How often each replica charges expired reservations and writes journaled confirmations. */
  sweepIntervalMs: number
  idempotencyTtlMs: number
  /** How long the usage ledger and the per-period totals are kept. */
  retentionMs: number
  /** With FAL_ADMIN_KEY: completed jobs are settled at what fal's billing events say it billed. */
  billing?: { apiUrl: string, adminKey: string }
}

export interface RateLimit { max: number, windowMs: number }

export interface RedisNode { host: string, port: number }

/** Credentials of the Redis nodes (a REDIS_URL carries its own). */
export interface RedisAuth { username?: string, password?: string }

export type RedisTopology =
  | { kind: 'server', url: string }
  /** The master named `masterName`, found (and found again after a failover) through the sentinels. */
  | { kind: 'sentinel', sentinels: RedisNode[], masterName: string, sentinelPassword?: string, auth: RedisAuth }
  /** Seeds: the client learns every other node and the slots from any one of them. */
  | { kind: 'cluster', nodes: RedisNode[], auth: RedisAuth }

/** `run` is a whole synchronous run (fal.run), or a streamed run's wait for its first answer. */
export interface UpstreamTimeouts { submit: number, status: number, result: number, cancel: number, upload: number, run: number }

/** Thrown for a bad setting; its message is the one line printed before the process exits. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

function list (value: string): string[] {
  return value.split(',').map(item => item.trim()).filter(item => item.length > 0)
}

/** `host:port,host:port`, IPv6 hosts in brackets (`[::1]:26379`). */
function redisNodes (name: string, value: string): RedisNode[] {
  const nodes = list(value).map(item => {
    const found = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(item)
    const port = Number(found?.[2])
    if (found === null || port < 1 || port > 65535) throw new ConfigError(`Invalid ${name}: "${item}" is not host:port`)
    return { host: (found[1] as string).replace(/^\[|\]$/g, ''), port }
  })
  if (nodes.length === 0) throw new ConfigError(`Invalid ${name}: host:port,host:port… expected`)
  return nodes
}

function redisTopology (valid: Env): RedisTopology | undefined {
  const chosen = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter(name => valid[name] !== undefined)
  if (chosen.length > 1) throw new ConfigError(`Invalid ${chosen[1]}: set only one of REDIS_URL, REDIS_SENTINELS and REDIS_CLUSTER_NODES`)
  if ((valid.REDIS_SENTINELS === undefined) !== (valid.REDIS_SENTINEL_NAME === undefined)) {
    throw new ConfigError('Invalid REDIS_SENTINEL_NAME: REDIS_SENTINELS and REDIS_SENTINEL_NAME go together (the sentinels, and the master they monitor)')
  }
  if (valid.REDIS_SENTINEL_PASSWORD !== undefined && valid.REDIS_SENTINELS === undefined) {
    throw new ConfigError('Invalid REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS')
  }
  const auth: RedisAuth = {
    ...(valid.REDIS_USERNAME === undefined ? {} : { username: valid.REDIS_USERNAME }),
    ...(valid.REDIS_PASSWORD === undefined ? {} : { password: valid.REDIS_PASSWORD })
  }
  if (Object.keys(auth).length > 0 && (chosen[0] ?? 'REDIS_URL') === 'REDIS_URL') {
    throw new ConfigError(`Invalid ${auth.password === undefined ? 'REDIS_USERNAME' : 'REDIS_PASSWORD'}: only used with REDIS_SENTINELS or REDIS_CLUSTER_NODES (a REDIS_URL carries its own credentials)`)
  }
  if (valid.REDIS_URL !== undefined) return { kind: 'server', url: valid.REDIS_URL }
  if (valid.REDIS_SENTINELS !== undefined) {
    return {
      kind: 'sentinel',
      sentinels: redisNodes('REDIS_SENTINELS', valid.REDIS_SENTINELS),
      masterName: valid.REDIS_SENTINEL_NAME as string,
      ...(valid.REDIS_SENTINEL_PASSWORD === undefined ? {} : { sentinelPassword: valid.REDIS_SENTINEL_PASSWORD }),
      auth
    }
  }
  if (valid.REDIS_CLUSTER_NODES !== undefined) return { kind: 'cluster', nodes: redisNodes('REDIS_CLUSTER_NODES', valid.REDIS_CLUSTER_NODES), auth }
  return undefined
}

function budget (dayMicroUsd: number | undefined, monthMicroUsd: number | undefined): SpendSettings['globalBudget'] {
  return { ...(dayMicroUsd === undefined ? {} : { dayMicroUsd }), ...(monthMicroUsd === undefined ? {} : { monthMicroUsd }) }
}

function withoutTrailingSlash (url: string): string {
  return url.replace(/\/+$/, '')
}

/** What `npm run models` needs: where the catalog is, where fal's platform API is, and the key if there is one. */
export interface CatalogSettings { modelsDir: string, falApiUrl: string, falKey?: string }

const CatalogEnvSchema = Type.Pick(EnvSchema, ['MODELS_DIR', 'FAL_API_URL', 'FAL_KEY', 'FAL_KEY_ID', 'FAL_KEY_SECRET'])

export function loadCatalogSettings (environment: Record<string, string | undefined>): CatalogSettings {
  const known = Object.fromEntries(Object.keys(CatalogEnvSchema.properties)
    .filter(name => environment[name] !== undefined && environment[name] !== '')
    .map(name => [name, environment[name]]))
  const env = Value.Default(CatalogEnvSchema, known)
  const firstError = Value.Errors(CatalogEnvSchema, env).First()
  if (firstError !== undefined) throw new ConfigError(`Invalid ${firstError.path.split('/')[1] ?? 'environment'}: ${firstError.message}`)
  const valid = env as Static<typeof CatalogEnvSchema>
  const falKey = valid.FAL_KEY ?? (valid.FAL_KEY_ID !== undefined && valid.FAL_KEY_SECRET !== undefined ? `${valid.FAL_KEY_ID}:${valid.FAL_KEY_SECRET}` : undefined)
  return { modelsDir: valid.MODELS_DIR ?? DEFAULT_MODELS_DIR, falApiUrl: withoutTrailingSlash(valid.FAL_API_URL), ...(falKey === undefined ? {} : { falKey }) }
}

export function loadConfig (environment: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(
    Object.keys(EnvSchema.properties)
      .filter(name => environment[name] !== undefined && environment[name] !== '')
      .map(name => [name, environment[name]])
  )
  // Convert would read "0.10" as 0: a budget someone wrote in dollars must not silently become $0.
  for (const name of BUDGET_SETTINGS) {
    const raw = known[name]
    if (raw !== undefined && !/^\d+$/.test(raw.trim())) throw new ConfigError(`Invalid ${name}: whole micro-USD expected (1 USD = 1000000)`)
  }
  const env = Value.Default(EnvSchema, Value.Convert(EnvSchema, known))
  const firstError = Value.Errors(EnvSchema, env).First()
  if (firstError !== undefined) {
    const name = firstError.path.split('/')[1] ?? 'environment'
    throw new ConfigError(`Invalid ${name}: ${firstError.message}`)
  }
  const valid = env as Env

  const falKey = valid.FAL_KEY ?? (valid.FAL_KEY_ID !== undefined && valid.FAL_KEY_SECRET !== undefined
    ? `${valid.FAL_KEY_ID}:${valid.FAL_KEY_SECRET}`
    : undefined)
  if (valid.HEADERS_TIMEOUT_MS > valid.REQUEST_TIMEOUT_MS) {
    throw new ConfigError('Invalid HEADERS_TIMEOUT_MS: must not exceed REQUEST_TIMEOUT_MS')
  }
  if (valid.FAL_WEBHOOKS === 'on' && valid.PUBLIC_URL === undefined) {
    throw new ConfigError('Invalid FAL_WEBHOOKS: "on" needs PUBLIC_URL, the address fal posts webhooks to')
  }
  if (falKey === undefined) {
    throw new ConfigError('Missing FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET): the gateway cannot call fal without it')
  }
  const topology = redisTopology(valid)
  if (valid.REDIS_WAIT_REPLICAS > 0 && valid.REDIS_WAIT_TIMEOUT_MS >= valid.REDIS_COMMAND_TIMEOUT_MS) {
    throw new ConfigError('Invalid REDIS_WAIT_TIMEOUT_MS: must be below REDIS_COMMAND_TIMEOUT_MS (the wait is one command)')
  }
  let fallbackUnits: FallbackUnits
  try {
    fallbackUnits = parseFallbackUnits(valid.PRICE_FALLBACK_UNITS)
  } catch (error) {
    throw new ConfigError(`Invalid PRICE_FALLBACK_UNITS: ${(error as Error).message}`)
  }

  return {
    falKey,
    port: valid.PORT,
    host: valid.HOST,
    logLevel: valid.LOG_LEVEL,
    publicUrl: valid.PUBLIC_URL === undefined ? undefined : withoutTrailingSlash(valid.PUBLIC_URL),
    corsOrigins: list(valid.CORS_ORIGINS),
    corsLoopbackOrigins: valid.NODE_ENV === 'development',
    bodyLimit: valid.BODY_LIMIT,
    falQueueUrl: withoutTrailingSlash(valid.FAL_QUEUE_URL),
    falRestUrl: withoutTrailingSlash(valid.FAL_REST_URL),
    falRunUrl: withoutTrailingSlash(valid.FAL_RUN_URL),
    falApiUrl: withoutTrailingSlash(valid.FAL_API_URL),
    modelsDir: valid.MODELS_DIR ?? DEFAULT_MODELS_DIR,
    trustProxy: list(valid.TRUST_PROXY),
    webhookHosts: list(valid.WEBHOOK_HOSTS).map(host => host.toLowerCase()),
    falWebhooks: {
      enabled: valid.FAL_WEBHOOKS === 'on',
      // fal's JWKS lives on its REST host: following FAL_REST_URL keeps the emulator self-contained.
      jwksUrl: valid.FAL_JWKS_URL ?? `${withoutTrailingSlash(valid.FAL_REST_URL)}/.well-known/jwks.json`,
      jwksMinRefreshMs: valid.FAL_JWKS_MIN_REFRESH_MS,
      bodyLimit: valid.FAL_WEBHOOK_BODY_LIMIT
    },
    clientWebhooks: {
      secret: valid.WEBHOOK_SECRET,
      maxAttempts: valid.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: valid.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: valid.WEBHOOK_RETRY_MAX_MS,
      timeoutMs: valid.WEBHOOK_TIMEOUT_MS,
      allowLoopback: valid.WEBHOOK_ALLOW_LOOPBACK
    },
    eventsHeartbeatMs: valid.EVENTS_HEARTBEAT_MS,
    rateLimits: {
      submit: { max: valid.RATE_LIMIT_SUBMIT_MAX, windowMs: valid.RATE_LIMIT_SUBMIT_WINDOW },
      poll: { max: valid.RATE_LIMIT_POLL_MAX, windowMs: valid.RATE_LIMIT_POLL_WINDOW },
      upload: { max: valid.RATE_LIMIT_UPLOAD_MAX, windowMs: valid.RATE_LIMIT_UPLOAD_WINDOW }
    },
    defaultTier: {
      maxInFlight: valid.MAX_IN_FLIGHT,
      dailySubmitQuota: valid.DAILY_SUBMIT_QUOTA,
      anonymousEnabled: valid.ANONYMOUS_ENABLED
    },
    policyFile: valid.POLICY_FILE,
    redis: topology === undefined
      ? undefined
      : {
          topology,
          failMode: valid.REDIS_FAIL_MODE,
          commandTimeoutMs: valid.REDIS_COMMAND_TIMEOUT_MS,
          replicaAcks: { replicas: valid.REDIS_WAIT_REPLICAS, timeoutMs: valid.REDIS_WAIT_TIMEOUT_MS }
        },
    ownershipTtlMs: valid.OWNERSHIP_TTL_MS,
    jobTtlMs: valid.JOB_TTL_MS,
    upstreamTimeouts: {
      submit: valid.UPSTREAM_TIMEOUT_SUBMIT_MS ?? valid.UPSTREAM_TIMEOUT_MS,
      status: valid.UPSTREAM_TIMEOUT_STATUS_MS ?? valid.UPSTREAM_TIMEOUT_MS,
      result: valid.UPSTREAM_TIMEOUT_RESULT_MS ?? valid.UPSTREAM_TIMEOUT_MS,
      cancel: valid.UPSTREAM_TIMEOUT_CANCEL_MS ?? valid.UPSTREAM_TIMEOUT_MS,
      upload: valid.UPSTREAM_TIMEOUT_UPLOAD_MS ?? valid.UPSTREAM_TIMEOUT_MS,
      // A synchronous run lasts as long as the model takes, not as long as a queue call.
      run: valid.UPSTREAM_TIMEOUT_RUN_MS
    },
    upstreamRetry: { retries: valid.UPSTREAM_RETRIES, baseDelayMs: valid.UPSTREAM_RETRY_BASE_MS, maxDelayMs: valid.UPSTREAM_RETRY_MAX_MS },
    breaker: {
      errorThresholdPercent: valid.BREAKER_ERROR_THRESHOLD_PERCENT,
      volumeThreshold: valid.BREAKER_VOLUME_THRESHOLD,
      resetMs: valid.BREAKER_RESET_MS,
      windowMs: valid.BREAKER_WINDOW_MS
    },
    pollCache: {
      maxBytes: valid.POLL_CACHE_MAX_BYTES,
      pendingFreshMs: valid.POLL_PENDING_FRESH_MS,
      completedTtlMs: valid.POLL_COMPLETED_TTL_MS
    },
    streamTimeoutMs: valid.STREAM_TIMEOUT_MS,
    streams: { maxPerClient: valid.MAX_STREAMS_PER_CLIENT, maxPerNode: valid.MAX_STREAMS_PER_NODE, upstreamConnections: valid.UPSTREAM_STREAM_CONNECTIONS },
    shutdownGraceMs: valid.SHUTDOWN_GRACE_MS,
    server: {
      requestTimeoutMs: valid.REQUEST_TIMEOUT_MS,
      headersTimeoutMs: valid.HEADERS_TIMEOUT_MS,
      keepAliveTimeoutMs: valid.KEEP_ALIVE_TIMEOUT_MS,
      connectionTimeoutMs: valid.CONNECTION_TIMEOUT_MS
    },
    pressure: { maxEventLoopDelayMs: valid.MAX_EVENT_LOOP_DELAY_MS, maxHeapUsedBytes: valid.MAX_HEAP_USED_BYTES, graceMs: valid.LOAD_SHED_GRACE_MS },
    metrics: { token: valid.METRICS_TOKEN, port: valid.METRICS_PORT },
    adminToken: valid.ADMIN_TOKEN,
    demoEnabled: valid.DEMO_ENABLED ?? valid.NODE_ENV === 'development',
    spend: {
      globalBudget: budget(valid.GLOBAL_BUDGET_DAY_MICRO_USD, valid.GLOBAL_BUDGET_MONTH_MICRO_USD),
      clientBudget: budget(valid.CLIENT_BUDGET_DAY_MICRO_USD, valid.CLIENT_BUDGET_MONTH_MICRO_USD),
      fallbackUnits,
      reservationExpiryMs: valid.RESERVATION_EXPIRY_MS,
      sweepIntervalMs: valid.RESERVATION_SWEEP_INTERVAL_MS,
      idempotencyTtlMs: valid.IDEMPOTENCY_TTL_MS,
      retentionMs: valid.USAGE_RETENTION_DAYS * 86_400_000,
      ...(valid.FAL_ADMIN_KEY === undefined ? {} : { billing: { apiUrl: withoutTrailingSlash(valid.FAL_API_URL), adminKey: valid.FAL_ADMIN_KEY } })
    }
  }
}
