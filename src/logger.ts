import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'

/** What a request's log lines carry besides `reqId`, filled in as the request learns it. */
export interface LogContext {
  clientId?: string
  falRequestId?: string
}

/** Where a request's logger keeps its context: a property, as a WeakMap entry per request cost ~2 µs. */
const CONTEXT = Symbol('fal-gateway.logContext')
type WithContext = FastifyBaseLogger & { [CONTEXT]?: LogContext }

/**
 * The context of a request's logger, to fill in. Every line that logger writes (Fastify's own
 * "request completed" included) then carries it, through pino's `mixin`: no child logger per
 * fact learnt, and nothing computed for lines a level filters out.
 */
export function logContextOf (log: FastifyBaseLogger): LogContext {
  const owner = log as WithContext
  // Own property only: pino's child loggers inherit from their parent, and must not share its context.
  return Object.hasOwn(owner, CONTEXT) ? owner[CONTEXT] as LogContext : (owner[CONTEXT] = {})
}

/**
 * pino options: JSON lines with the request id on every line, and credentials redacted wherever
 * a request's or an error's headers could carry them. The key itself is never logged.
 */
export function loggerOptions (config: Pick<Config, 'logLevel'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    // pino merges the line's own fields into what this returns: hand it a copy.
    mixin: (_line, _level, logger) => ({ ...(Object.hasOwn(logger, CONTEXT) ? (logger as WithContext)[CONTEXT] : undefined) }),
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        'err.headers.authorization',
        'err.reason.headers.authorization',
        'headers.authorization'
      ],
      censor: '[redacted]'
    }
  }
}

/**
 * `npm run dev`: the same logger, printed for a person by `pino-pretty` (a dev dependency, so
 * production and tests keep JSON lines). It runs as a pino transport, off the main thread.
 */
export function readableLoggerOptions (config: Pick<Config, 'logLevel'>): FastifyServerOptions['logger'] {
  return {
    ...(loggerOptions(config) as object),
    transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } }
  }
}
