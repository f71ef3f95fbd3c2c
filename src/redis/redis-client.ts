import { Cluster, Redis, type RedisOptions } from 'ioredis'
import type { RedisTopology } from '../config.js'

/**
 * A connection to Redis whatever its topology: one server, the master of a Sentinel group (a
 * `Redis`), or a Cluster. Stores take either: every script they run keeps its keys in one slot.
 */
export type RedisConnection = Redis | Cluster

export interface RedisClientOptions {
  /** Each command fails after this long instead of waiting for a stalled Redis (default 500). */
  commandTimeoutMs?: number
  connectTimeoutMs?: number
  /** Reconnection never stops; the delay grows by 100 ms per attempt up to this (default 2000). */
  maxReconnectDelayMs?: number
  /** ioredis reports connection errors as events; without a listener it prints them to stderr. */
  onError?: (err: Error) => void
  /** Shown by Redis's CLIENT LIST, so an operator can tell the gateway's connections apart. */
  connectionName?: string
}

/**
 * A client that fails fast while Redis is unreachable (no offline queue, one retry, bounded
 * command time) and reconnects by itself when it returns. Commands sent before the first
 * `ready` event fail too: await `waitForRedis` at startup if that matters.
 *
 * Behind Sentinel it asks the sentinels for the master on every (re)connection; a master demoted
 * to replica (READONLY) makes it reconnect too. On a Cluster it follows MOVED/ASK and refreshes the slot map by itself.
 */
export function createRedisClient (where: string, options?: RedisClientOptions): Redis
export function createRedisClient (where: string | RedisTopology, options?: RedisClientOptions): RedisConnection
export function createRedisClient (where: string | RedisTopology, options: RedisClientOptions = {}): RedisConnection {
  const maxDelay = options.maxReconnectDelayMs ?? 2000
  const retryStrategy = (attempt: number): number => Math.min(attempt * 100, maxDelay)
  const failFast: RedisOptions = {
    connectionName: options.connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: options.commandTimeoutMs ?? 500,
    retryStrategy
  }
  const topology: RedisTopology = typeof where === 'string' ? { kind: 'server', url: where } : where
  let client: RedisConnection
  switch (topology.kind) {
    case 'server':
      // Commands issued in the same tick (a rate count and an ownership lookup) share one write.
      client = new Redis(topology.url, { ...failFast, enableAutoPipelining: true })
      break
    case 'sentinel':
      client = new Redis({
        ...failFast,
        ...topology.auth,
        enableAutoPipelining: true,
        sentinels: topology.sentinels,
        name: topology.masterName,
        role: 'master',
        sentinelPassword: topology.sentinelPassword,
        sentinelRetryStrategy: retryStrategy,
        // Not `failoverDetector`: its disconnect racing a reconnection in progress ends the
        // client for good (status "end", seen in test/replicas/redis-sentinel-failover.test.ts).
        // A dead master closes the connection anyway, and a demoted one answers READONLY.
        reconnectOnError: (error) => error.message.startsWith('READONLY')
      })
      break
    case 'cluster':
      client = new Cluster(topology.nodes, {
        enableOfflineQueue: false,
        enableAutoPipelining: true,
        clusterRetryStrategy: retryStrategy,
        redisOptions: { ...failFast, ...topology.auth }
      })
      // A node's connection errors; the cluster's own 'error' is for the cluster as a whole.
      client.on('node error', options.onError ?? (() => {}))
      break
  }
  client.on('error', options.onError ?? (() => {}))
  return client
}

/** Resolves once the client is ready; rejects after `timeoutMs`. */
export async function waitForRedis (client: RedisConnection, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady)
      reject(new Error(`Redis not ready after ${timeoutMs} ms`))
    }, timeoutMs)
    const onReady = (): void => {
      clearTimeout(timer)
      resolve()
    }
    client.once('ready', onReady)
  })
}
