import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import { createRedisClient, waitForRedis, type RedisConnection } from '../../redis/redis-client.js'

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The one Redis connection (to a server, a Sentinel group's master or a Cluster) when one is
     * configured, shared by the limit store, the rate limiter, the poll cache, the spend and
     * webhook stores and metrics; undefined when each node keeps its own counts.
     */
    redis: RedisConnection | undefined
  }
}

const STARTUP_WAIT_MS = 3000
/** One warning per outage second, not one per reconnect attempt. */
const WARN_EVERY_MS = 1000

/** Opens the connection at start-up and closes it with the app, after everything that uses it. */
export default fp<{ config: Config }>(async function redis (fastify, { config }) {
  if (config.redis === undefined) {
    fastify.decorate('redis', undefined)
    return
  }
  const log = fastify.log.child({ component: 'redis' })
  let lastWarning = 0
  const client = createRedisClient(config.redis.topology, {
    commandTimeoutMs: config.redis.commandTimeoutMs,
    connectionName: 'fal-gateway',
    onError: (err) => {
      if (Date.now() - lastWarning > WARN_EVERY_MS) log.warn({ err: { message: err.message } }, 'redis unreachable')
      lastWarning = Date.now()
    }
  })
  client.on('ready', () => { log.info('redis ready') })
  // Without an offline queue every command fails until the connection is up: wait for it
  // (boundedly) so a fresh node does not answer 503 to its first requests while /readyz says ready.
  await waitForRedis(client, STARTUP_WAIT_MS).catch(() => { log.warn('redis not reachable at start-up; the fail mode applies until it is') })
  fastify.decorate<RedisConnection>('redis', client)
  // Registered first, so closed last: the plugins that use it close before it.
  fastify.addHook('onClose', async () => { client.disconnect() })
}, { name: 'redis' })
