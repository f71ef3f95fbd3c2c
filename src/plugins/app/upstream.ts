import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import { createConnectionPool } from '../../upstream/connection-pool.js'
import { createFalEndpoints, type FalEndpoints } from '../../upstream/fal-endpoints.js'
import { createFalQueueClient, type FalQueueClient } from '../../upstream/fal-client.js'
import { createQueueReader, type QueueReader } from '../../upstream/queue-reader.js'
import type { Agent } from 'undici'

declare module 'fastify' {
  interface FastifyInstance {
    upstream: {
      endpoints: FalEndpoints
      pool: Agent
      /** Submit and cancel, through `@fal-ai/client`. */
      client: FalQueueClient
      /** Status and result polls, on the pooled hot path. */
      reader: QueueReader
    }
  }
}

/** Everything that talks to fal, built once; the pool closes with the app. */
export default fp<{ config: Config }>(async function upstream (fastify, { config }) {
  const endpoints = createFalEndpoints(config.falQueueUrl, config.falRestUrl)
  const pool = createConnectionPool()
  const common = { credentials: config.falKey, endpoints, pool, timeoutMs: config.upstreamTimeoutMs }
  fastify.decorate('upstream', {
    endpoints,
    pool,
    client: createFalQueueClient(common),
    reader: createQueueReader(common)
  })
  fastify.addHook('onClose', async () => { await pool.close() })
}, { name: 'upstream' })
