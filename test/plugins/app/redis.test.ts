import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Redis } from 'ioredis'
import { waitForRedis } from '../../../src/redis/redis-client.js'
import { startRedisServer } from '../../helpers/redis-server.js'
import { json, startGateway } from '../../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../../routes/queue/queue-client.js'

/** The gateway's connections to Redis, as Redis itself lists them (the observer's own left out). */
async function gatewayConnections (observer: Redis): Promise<string[]> {
  const clients = String(await observer.call('CLIENT', 'LIST')).trim().split('\n')
  return clients.filter(line => !line.includes(' name=observer ')).map(line => /\bname=(\S*)/.exec(line)?.[1] ?? '?').sort()
}

t.test('one Redis connection serves the rate limiter, the limit store and the poll cache, and closes with the app', async t => {
  const redis = await startRedisServer()
  t.teardown(() => redis.stop())
  const observer = new Redis(redis.url, { connectionName: 'observer' })
  t.teardown(() => { observer.disconnect() })

  const gateway = await startGateway(t, { env: { REDIS_URL: redis.url, POLL_PENDING_FRESH_MS: '0' }, emulator: { queueMs: 10, processingMs: 10 } })
  const submitted = await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))
  t.equal(submitted.status, 202, 'a submit: rate count, job slot and ownership, all in Redis')
  const requestId: string = submitted.json().request_id
  let result
  for (let polls = 0; polls < 200; polls++) {
    result = await gateway.request(`/queue/${ILLUSION}/requests/${requestId}`)
    if (result.status === 200) break
  }
  t.equal(result?.status, 200, 'its result, cached in Redis')
  t.ok((await observer.keys('falgw-rate:*')).length > 0, 'the rate limiter counts in Redis')
  t.ok((await observer.keys('falgw:owner:*')).length > 0, 'the limit store records ownership in Redis')
  t.ok((await observer.keys('falgw:cache:*')).length > 0, 'the poll cache keeps the result in Redis')
  // The outcome store's subscriber is the one other connection: in subscriber mode it can run nothing else.
  t.same(await gatewayConnections(observer), ['fal-gateway', 'fal-gateway-outcomes'], 'all of it over the one command connection of the redis plugin')

  await gateway.app.close()
  let left = await gatewayConnections(observer)
  for (let waited = 0; left.length > 0 && waited < 50; waited++) {
    await new Promise(resolve => setTimeout(resolve, 100))
    left = await gatewayConnections(observer)
  }
  t.same(left, [], 'closing the app closes them')
})

t.test('REDIS_CLUSTER_NODES with REDIS_PASSWORD: the gateway authenticates to a Cluster and keeps its counts there', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'falgw-auth-cluster-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  // A lone node announces no address unless told: a Cluster client learns nodes from what they announce.
  const redis = await startRedisServer(['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'), '--cluster-announce-ip', '127.0.0.1'])
  t.teardown(() => redis.stop())
  const admin = new Redis(redis.port, '127.0.0.1', { connectionName: 'observer' })
  t.teardown(() => { admin.disconnect() })
  // Set once the helper has seen it answer PING; this connection stays authenticated.
  await admin.config('SET', 'requirepass', 'cluster-secret')
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383')
  for (let i = 0; !String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'); i++) {
    if (i > 400) throw new Error('the one-node cluster never became ready')
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  const gateway = await startGateway(t, { env: { REDIS_CLUSTER_NODES: `127.0.0.1:${redis.port}`, REDIS_PASSWORD: 'cluster-secret' } })
  await waitForRedis(gateway.app.redis as NonNullable<typeof gateway.app.redis>, 10_000)
  const submitted = await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))
  t.equal(submitted.status, 202, 'a submit is admitted')
  t.ok((await admin.keys('falgw:owner:*')).length > 0, 'its owner is in the Cluster')
  t.notOk(gateway.logs.some(line => line.includes('cluster-secret')), 'the password is in no log line')
})
