import type { ChainableCommander } from 'ioredis'
import type { RedisConnection } from './redis-client.js'

/** REDIS_WAIT_REPLICAS / REDIS_WAIT_TIMEOUT_MS: how many replicas must hold a write, within how long. */
export interface ReplicaAcks { replicas: number, timeoutMs: number }

/** Issues one write command on what it is given: the connection, or a pipeline. */
export type Write = (commands: RedisConnection | ChainableCommander) => unknown

/**
 * One write followed by `WAIT replicas timeoutMs` on the same node: a pipeline keeps the two
 * together on one connection, on a Cluster too (WAIT names no key and goes where the write's key
 * goes). `replicated` is false when fewer replicas confirmed in time: the write is on the master
 * only, and a failover now would lose it. Without acks the write goes alone (auto-pipelined).
 */
export async function writeReplicated<T> (client: RedisConnection, acks: ReplicaAcks | undefined, write: Write): Promise<{ reply: T, replicated: boolean }> {
  if (acks === undefined || acks.replicas === 0) return { reply: await (write(client) as Promise<T>), replicated: true }
  const pipeline = client.pipeline()
  write(pipeline)
  const results = await pipeline.wait(acks.replicas, acks.timeoutMs).exec()
  if (results === null) throw new Error('the write was discarded')
  for (const [error] of results) if (error !== null) throw error
  return { reply: results[0]?.[1] as T, replicated: Number(results[1]?.[1]) >= acks.replicas }
}
