import { randomUUID } from 'node:crypto'
import t from 'tap'
import { createRedisLimitStore } from '../../src/limits/redis-store.js'
import { createRedisClient, waitForRedis, type RedisConnection } from '../../src/redis/redis-client.js'
import { startRedisCluster } from '../helpers/redis-topologies.js'
import { limitStoreSuite } from './store-suite.js'

// Three masters, each holding a third of the slots: a script whose keys fall in two slots is
// refused (CROSSSLOT), and clients' keys land on different shards, so the whole suite passing
// here shows the limit store's scripts and two-step writes work on Redis Cluster.
const cluster = await startRedisCluster()
t.teardown(() => cluster.stop())
const topology = { kind: 'cluster' as const, nodes: cluster.nodes, auth: {} }

async function connect (): Promise<RedisConnection> {
  const client = createRedisClient(topology)
  t.teardown(() => { client.disconnect() })
  await waitForRedis(client, 20_000)
  return client
}

t.test('the cluster refuses a script over two slots (the suite below can fail)', async t => {
  const client = await connect()
  // Refused by ioredis before it is sent (auto-pipelining groups commands by slot) or by Redis.
  await t.rejects(client.eval('return 1', 2, 'a{one}', 'b{two}'), /CROSSSLOT|same slot/)
})

limitStoreSuite(t, async (count) => {
  const prefix = `test-${randomUUID()}:`
  return await Promise.all(Array.from({ length: count }, async () => createRedisLimitStore({ client: await connect(), prefix })))
})

t.test('clients are spread over the shards, each one\'s counts on one of them', async t => {
  const client = await connect()
  const prefix = `spread-${randomUUID()}:`
  const store = createRedisLimitStore({ client, prefix })
  const clients = Array.from({ length: 30 }, (_, i) => `ip:192.0.2.${i}`)
  for (const clientId of clients) {
    const reservationId = randomUUID()
    await store.reserveJob({ clientId, reservationId, maxInFlight: 5, dailyQuota: 10, ttlMs: 60_000 })
    await store.confirmJob({ clientId, reservationId, requestId: `req-${reservationId}`, ownershipTtlMs: 60_000, jobTtlMs: 60_000 })
  }
  const masters = (client as import('ioredis').Cluster).nodes('master')
  const perNode = await Promise.all(masters.map(async node => await node.keys(`${prefix}{*`)))
  t.equal(perNode.filter(keys => keys.length > 0).length, 3, 'every master holds some client\'s counts')
  for (const keys of perNode) {
    const tags = new Set(keys.map(key => /\{([^}]*)\}/.exec(key)?.[1]))
    for (const tag of tags) t.equal(perNode.filter(other => other.some(key => key.includes(`{${tag}}`))).length, 1, `${tag}: all on one master`)
  }
})
