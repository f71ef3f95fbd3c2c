import fp from 'fastify-plugin'
import cors from '@fastify/cors'

/**
 * CORS for browser apps on the listed origins only (CORS_ORIGINS, exact matches: no reflection,
 * no patterns). `x-fal-request-id` is exposed or `@fal-ai/client` loses `result().requestId`.
 */
export default fp<{ origins: string[] }>(async function corsPolicy (fastify, { origins }) {
  await fastify.register(cors, {
    // Strings in a list are compared exactly; an empty list turns CORS off.
    origin: origins.length === 0 ? false : origins,
    methods: ['GET', 'POST', 'PUT', 'OPTIONS'],
    allowedHeaders: ['content-type', 'authorization', 'accept', 'x-fal-target-url', 'x-fal-queue-priority', 'x-fal-runner-hint', 'x-fal-request-timeout', 'x-fal-object-lifecycle-preference', 'x-request-id'],
    exposedHeaders: ['x-fal-request-id', 'x-request-id', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'x-jobs-in-flight', 'x-quota-remaining'],
    maxAge: 600
  })
}, { name: 'cors' })
