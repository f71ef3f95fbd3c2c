import fp from 'fastify-plugin'
import type { Agent } from 'undici'
import type { Config } from '../../config.js'
import { createCachedReader } from '../../cache/cached-reader.js'
import { createBreakers, type Breakers } from '../../upstream/breakers.js'
import { createCallEvents, type CallEvents } from '../../upstream/call-events.js'
import { createCallPolicy } from '../../upstream/call-policy.js'
import { createConnectionPool, createStreamPool } from '../../upstream/connection-pool.js'
import { createFalCredentials } from '../../upstream/fal-credentials.js'
import { createFalEndpoints } from '../../upstream/fal-endpoints.js'
import { createFalUpstream, type FalUpstream } from '../../upstream/fal-upstream.js'

declare module 'fastify' {
  interface FastifyInstance {
    upstream: {
      /** Every call to fal; status and result polls coalesced and cached. */
      fal: FalUpstream
      /** The connection pool, for observation only: calls go through `fal`. */
      pool: Agent
      /** The status streams' own pool, for observation only. */
      streamPool: Agent
      /** One circuit breaker per operation: `states()` and `onEvent()` for metrics. */
      breakers: Breakers
      /** Every call to fal as it ends, for metrics. */
      onCall: CallEvents['onCall']
    }
  }
}

/** Everything that talks to fal, built once; the pool and the breakers close with the app. */
export default fp<{ config: Config }>(async function upstream (fastify, { config }) {
  const endpoints = createFalEndpoints(config.falQueueUrl, config.falRestUrl, config.falRunUrl)
  const pool = createConnectionPool()
  const streamPool = createStreamPool(config.streams.upstreamConnections)
  const breakers = createBreakers(config.breaker)
  const policy = createCallPolicy({
    // A status stream must open as fast as a status poll answers; STREAM_TIMEOUT_MS bounds the rest.
    timeouts: { ...config.upstreamTimeouts, stream: config.upstreamTimeouts.status, 'run-stream': config.upstreamTimeouts.run },
    retry: config.upstreamRetry,
    breakers
  })
  const events = createCallEvents()
  const direct = createFalUpstream({ credentials: createFalCredentials(config.falKey), endpoints, pool, streamPool, policy, events })
  const polls = createCachedReader(direct, {
    ...config.pollCache,
    redis: fastify.redis,
    onRedisError: (error) => { fastify.log.warn({ err: error }, 'poll cache: redis unreachable, using this node\'s memory') }
  })
  fastify.decorate('upstream', { fal: { ...direct, ...polls }, pool, streamPool, breakers, onCall: events.onCall })
  fastify.addHook('onClose', async () => {
    breakers.shutdown()
    await Promise.all([pool.close(), streamPool.close()])
  })
}, { name: 'upstream', dependencies: ['redis'] })
