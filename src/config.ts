import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

/**
 * Every setting the gateway reads, in one schema. `loadConfig` is the only place that turns the
 * environment into settings; everything else receives a validated `Config`.
 */
const EnvSchema = Type.Object({
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
  TRUST_PROXY: Type.String({ default: '' }),
  WEBHOOK_HOSTS: Type.String({ default: '' }),
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
  REDIS_FAIL_MODE: Type.Union([Type.Literal('closed'), Type.Literal('open')], { default: 'closed' }),
  REDIS_COMMAND_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 500 }),
  OWNERSHIP_TTL_MS: Type.Integer({ minimum: 1000, default: 24 * 3600_000 }),
  JOB_TTL_MS: Type.Integer({ minimum: 1000, default: 3600_000 }),
  UPSTREAM_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 30_000 }),
  STREAM_TIMEOUT_MS: Type.Integer({ minimum: 1, default: 15 * 60_000 }),
  SHUTDOWN_GRACE_MS: Type.Integer({ minimum: 0, default: 10_000 }),
  DEMO_ENABLED: Type.Optional(Type.Boolean())
})
type Env = Static<typeof EnvSchema>

export interface Config {
  env: Env['NODE_ENV']
  /** fal credentials as the client sends them: `key` or `id:secret`. Never logged. */
  falKey: string
  port: number
  host: string
  logLevel: Env['LOG_LEVEL']
  publicUrl?: string
  corsOrigins: string[]
  bodyLimit: number
  falQueueUrl: string
  falRestUrl: string
  trustProxy: string[]
  webhookHosts: string[]
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
    url: string
    /** `closed`: answer 503 while Redis is unreachable; `open`: fall back to this node's memory. */
    failMode: 'closed' | 'open'
    commandTimeoutMs: number
  }
  /** How long a client may reach a request it submitted. */
  ownershipTtlMs: number
  /** Safety net: a job stops counting as in flight after this even if nobody saw it finish. */
  jobTtlMs: number
  upstreamTimeoutMs: number
  /** Longest a status stream may stay open; fal ends it when the job completes. */
  streamTimeoutMs: number
  /** How long in-flight requests and streams get to finish after SIGTERM. */
  shutdownGraceMs: number
  demoEnabled: boolean
}

export interface RateLimit { max: number, windowMs: number }

/** Thrown for a bad setting; its message is the one line printed before the process exits. */
export class ConfigError extends Error {
  override name = 'ConfigError'
}

function list (value: string): string[] {
  return value.split(',').map(item => item.trim()).filter(item => item.length > 0)
}

function withoutTrailingSlash (url: string): string {
  return url.replace(/\/+$/, '')
}

export function loadConfig (environment: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(
    Object.keys(EnvSchema.properties)
      .filter(name => environment[name] !== undefined && environment[name] !== '')
      .map(name => [name, environment[name]])
  )
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
  if (falKey === undefined) {
    throw new ConfigError('Missing FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET): the gateway cannot call fal without it')
  }

  return {
    env: valid.NODE_ENV,
    falKey,
    port: valid.PORT,
    host: valid.HOST,
    logLevel: valid.LOG_LEVEL,
    publicUrl: valid.PUBLIC_URL === undefined ? undefined : withoutTrailingSlash(valid.PUBLIC_URL),
    corsOrigins: list(valid.CORS_ORIGINS),
    bodyLimit: valid.BODY_LIMIT,
    falQueueUrl: withoutTrailingSlash(valid.FAL_QUEUE_URL),
    falRestUrl: withoutTrailingSlash(valid.FAL_REST_URL),
    trustProxy: list(valid.TRUST_PROXY),
    webhookHosts: list(valid.WEBHOOK_HOSTS).map(host => host.toLowerCase()),
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
    redis: valid.REDIS_URL === undefined
      ? undefined
      : { url: valid.REDIS_URL, failMode: valid.REDIS_FAIL_MODE, commandTimeoutMs: valid.REDIS_COMMAND_TIMEOUT_MS },
    ownershipTtlMs: valid.OWNERSHIP_TTL_MS,
    jobTtlMs: valid.JOB_TTL_MS,
    upstreamTimeoutMs: valid.UPSTREAM_TIMEOUT_MS,
    streamTimeoutMs: valid.STREAM_TIMEOUT_MS,
    shutdownGraceMs: valid.SHUTDOWN_GRACE_MS,
    demoEnabled: valid.DEMO_ENABLED ?? valid.NODE_ENV === 'development'
  }
}
