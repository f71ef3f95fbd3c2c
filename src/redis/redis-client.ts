import { Redis } from 'ioredis'

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
 */
export function createRedisClient (url: string, options: RedisClientOptions = {}): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 2000
  const client = new Redis(url, {
    connectionName: options.connectionName,
    enableOfflineQueue: false,
    // Commands issued in the same tick (a rate count and an ownership lookup) share one write.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    connectTimeout: options.connectTimeoutMs ?? 1000,
    commandTimeout: options.commandTimeoutMs ?? 500,
    retryStrategy: (attempt) => Math.min(attempt * 100, maxDelay)
  })
  client.on('error', options.onError ?? (() => {}))
  return client
}

/** Resolves once the client is ready; rejects after `timeoutMs`. */
export async function waitForRedis (client: Redis, timeoutMs = 5000): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady)
      reject(new Error(`Redis not ready after ${timeoutMs} ms`))
    }, timeoutMs)
    const onReady = () => {
      clearTimeout(timer)
      resolve()
    }
    client.once('ready', onReady)
  })
}
