import { Cluster } from 'ioredis'
import t from 'tap'
import { startRedisCluster } from '../helpers/redis-topologies.js'
import { operateVia, startCluster } from './cluster.js'
import { BURST_ENV, burst, checkBurst } from './submit-burst.js'

t.test('two replicas on a three-master Redis Cluster: 1,000 concurrent submits from one client, exactly the limit reaches fal, each owned', async t => {
  const redis = await startRedisCluster()
  t.teardown(() => redis.stop())
  const nodes = redis.nodes.map(({ host, port }) => `${host}:${port}`).join(',')
  const { emulator, gateways } = await startCluster(t, { replicas: 2, redis: false, env: { ...BURST_ENV, REDIS_CLUSTER_NODES: nodes } })
  t.ok(gateways.every(gateway => gateway.app.redis instanceof Cluster), 'the gateways speak Redis Cluster')

  const started = Date.now()
  const answers = await burst(t, gateways)
  t.comment(`burst answered in ${Date.now() - started} ms`)
  t.equal(checkBurst(t, answers, emulator.callsOf('submit').length, 'Redis Cluster, 2 replicas'), 0, 'no request admitted over the limit')

  // Ownership is keyed by request, counts by client: each lands on its own shard.
  const admitted = answers.flatMap(answer => answer.requestId === undefined ? [] : [answer.requestId])
  for (const [i, requestId] of admitted.entries()) {
    const status = await operateVia(gateways[(i + 1) % gateways.length]!, 'typed', 'status', requestId)
    t.equal(status.status, 200, `${requestId}: its owner reads its status on either replica`)
  }
})
