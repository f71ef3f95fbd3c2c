import type { FastifyServerOptions } from 'fastify'
import type { Config } from './config.js'

/**
 * pino options: JSON lines, the request id on every line, credentials redacted wherever they
 * could appear. The key itself is also scrubbed from any string pino writes, as a last guard.
 */
export function loggerOptions (config: Pick<Config, 'logLevel' | 'falKey'>): FastifyServerOptions['logger'] {
  return {
    level: config.logLevel,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-fal-key"]',
        'res.headers["set-cookie"]',
        '*.authorization',
        '*.Authorization',
        'headers.authorization',
        'headers.Authorization'
      ],
      censor: '[redacted]'
    },
    formatters: {
      log: (object) => scrubKey(object, config.falKey) as Record<string, unknown>
    }
  }
}

function scrubKey (value: unknown, key: string, depth = 0): unknown {
  if (typeof value === 'string') return value.includes(key) ? value.split(key).join('[redacted]') : value
  if (depth > 6 || typeof value !== 'object' || value === null) return value
  if (value instanceof Error) {
    return { type: value.name, message: scrubKey(value.message, key, depth + 1), stack: scrubKey(value.stack, key, depth + 1) }
  }
  if (Array.isArray(value)) return value.map(item => scrubKey(item, key, depth + 1))
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, scrubKey(item, key, depth + 1)]))
}
