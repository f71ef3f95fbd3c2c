import fp from 'fastify-plugin'
import cors from '@fastify/cors'

/**
 * `http://localhost:<port>` and `http://127.0.0.1:<port>`, any port, nothing else: anchored, so
 * `http://localhost.evil.com` and `https://` do not match.
 */
export const LOOPBACK_ORIGIN = /^http:\/\/(?:localhost|127\.0\.0\.1)(?::\d{1,5})?$/

export interface CorsOptions {
  /** Exact origins (CORS_ORIGINS). */
  origins: string[]
  /** Development: every loopback origin too, so any local dev server's port works. */
  allowLoopback?: boolean
}

/**
 * CORS for browser apps on the listed origins only (CORS_ORIGINS, exact matches: no reflection,
 * no patterns), plus, in development only, the loopback origins. `x-fal-request-id` is exposed or
 * `@fal-ai/client` loses `result().requestId`; the budget headers, or a page cannot show what is left.
 */
export default fp<CorsOptions>(async function corsPolicy (fastify, { origins, allowLoopback = false }) {
  // Strings in a list are compared exactly, RegExps tested; an empty list turns CORS off.
  const allowed: Array<string | RegExp> = allowLoopback ? [...origins, LOOPBACK_ORIGIN] : origins
  await fastify.register(cors, {
    origin: allowed.length === 0 ? false : allowed,
    methods: ['GET', 'POST', 'PUT', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'accept', 'x-fal-target-url', 'x-fal-queue-priority', 'x-fal-runner-hint', 'x-fal-request-timeout', 'x-fal-object-lifecycle-preference', 'x-request-id', 'idempotency-key'],
    exposedHeaders: ['x-fal-request-id', 'x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-jobs-in-flight', 'x-quota-remaining', 'x-budget-remaining', 'x-budget-reset', 'idempotent-replayed'],
    maxAge: 600
  })
}, { name: 'cors' })
