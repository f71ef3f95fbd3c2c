import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import { createBreakers, type Breakers } from '../../upstream/breakers.js'
import { createCallPolicy } from '../../upstream/call-policy.js'
import { createConnectionPool } from '../../upstream/connection-pool.js'
import { createFalEndpoints, type FalEndpoints } from '../../upstream/fal-endpoints.js'
import { createFalQueueClient, type FalQueueClient } from '../../upstream/fal-client.js'
import { createQueueReader, type QueueReader } from '../../upstream/queue-reader.js'
import { createCachedReader } from '../../cache/cached-reader.js'
import { createRawForwarder, type RawForward } from '../../upstream/raw-forward.js'
import type { Agent } from 'undici'

declare module 'fastify' {
  interface FastifyInstance {
    upstream: {
      endpoints: FalEndpoints
      pool: Agent
      /** Submit and cancel, through `@fal-ai/client`. */
      client: FalQueueClient
      /** Status and result polls, on the pooled hot path, coalesced and cached. */
      reader: QueueReader
      /** The proxy's pass-through, under the same deadlines, retries and breakers. */
      forward: RawForward
      /** One circuit breaker per operation: `states()` and `onEvent()` for metrics. */
      breakers: Breakers
    }
  }
}

/** Everything that talks to fal, built once; the pool and the breakers close with the app. */
export default fp<{ config: Config }>(async function upstream (fastify, { config }) {
  const endpoints = createFalEndpoints(config.falQueueUrl, config.falRestUrl)
  const pool = createConnectionPool()
  const breakers = createBreakers(config.breaker)
  const policy = createCallPolicy({
    // A status stream must open as fast as a status poll answers; STREAM_TIMEOUT_MS bounds the rest.
    timeouts: { ...config.upstreamTimeouts, stream: config.upstreamTimeouts.status },
    retry: config.upstreamRetry,
    breakers
  })
  const common = { credentials: config.falKey, endpoints, pool, policy }
  fastify.decorate('upstream', {
    endpoints,
    pool,
    client: createFalQueueClient(common),
    reader: createCachedReader(createQueueReader(common), {
      ...config.pollCache,
      redis: fastify.redis,
      onRedisError: (error) => { fastify.log.warn({ err: error }, 'poll cache: redis unreachable, using this node\'s memory') }
    }),
    forward: createRawForwarder(pool, policy),
    breakers
  })
  fastify.addHook('onClose', async () => {
    breakers.shutdown()
    await pool.close()
  })
}, { name: 'upstream', dependencies: ['limit-store'] })
