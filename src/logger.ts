import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'

/**
 * pino options: JSON lines with the request id on every line, and credentials redacted wherever
 * a request's or an error's headers could carry them. The key itself is never logged.
 */
export function loggerOptions (config: Pick<Config, 'logLevel'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
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
