import t from 'tap'
import { Redis } from 'ioredis'
import { KEYS, signToken, writePolicyFile } from '../plugins/policy-fixture.js'
import { UNKNOWN_REQUEST_ID, callsAbout, operateVia, startCluster, submitVia, type RequestOperation, type Route } from './cluster.js'

const ROUTES: Route[] = ['typed', 'proxy']
const OPERATIONS: RequestOperation[] = ['status', 'stream', 'result', 'cancel']

t.test('a request belongs to the client that submitted it, on every replica and both routes', async t => {
  const { emulator, gateways } = await startCluster(t, {
    replicas: 2,
    env: { POLICY_FILE: writePolicyFile(t) }
  })
  // Nothing leaves the queue while the intruders try.
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const [a, b] = gateways as [typeof gateways[0], typeof gateways[0]]
  const intruders = { 'client key bob': KEYS.bob, 'JWT of another subject': await signToken('mallory', { claims: { tier: 'pro' } }) }

  const submitted = await submitVia(a, 'typed', { bearer: KEYS.alice })
  t.equal(submitted.status, 202, 'alice submits on replica A')
  const id = submitted.json().request_id as string

  for (const route of ROUTES) {
    for (const operation of OPERATIONS) {
      const unknown = await operateVia(a, route, operation, UNKNOWN_REQUEST_ID, { bearer: KEYS.alice })
      t.equal(unknown.status, 404, `${route} ${operation} of an unknown id is 404`)
      t.equal(unknown.json().code, 'REQUEST_NOT_FOUND')
      for (const [intruder, bearer] of Object.entries(intruders)) {
        for (const [replica, gateway] of [['A', a], ['B', b]] as const) {
          const before = callsAbout(emulator, id)
          const answer = await operateVia(gateway, route, operation, id, { bearer })
          t.equal(answer.status, 404, `${intruder}: ${route} ${operation} on ${replica} is 404`)
          t.equal(answer.text, unknown.text, `${intruder}: ${route} ${operation} on ${replica} reads exactly like an unknown id`)
          t.equal(callsAbout(emulator, id), before, `${intruder}: ${route} ${operation} on ${replica} never reached fal`)
        }
      }
    }
  }
  t.equal(callsAbout(emulator, id), 0, 'fal heard nothing about the request from anyone but its submitter')
  emulator.jobs.release({ requestId: id })

  for (const route of ROUTES) {
    const status = await operateVia(b, route, 'status', id, { bearer: KEYS.alice })
    t.ok(status.status === 200 || status.status === 202, `alice polls it on replica B (${route}): ${status.status}`)
    t.equal(status.json().request_id, id)
  }
  const stream = await operateVia(b, 'typed', 'stream', id, { bearer: KEYS.alice })
  t.equal(stream.status, 200, 'alice streams its status on replica B')
  t.match(stream.text, /"status":"COMPLETED"/, 'the stream runs until the job completes')
  for (const route of ROUTES) {
    const result = await operateVia(b, route, 'result', id, { bearer: KEYS.alice })
    t.equal(result.status, 200, `alice fetches the result on replica B (${route})`)
    t.type(result.json().image?.url, 'string', 'the result carries the image')
  }

  // Still held in the queue (like every new job), so the cancel finds it there.
  const viaProxy = await submitVia(b, 'proxy', { bearer: KEYS.alice })
  t.equal(viaProxy.status, 200, 'alice submits through the proxy on replica B')
  const second = viaProxy.json().request_id as string
  const cancel = await operateVia(a, 'typed', 'cancel', second, { bearer: KEYS.alice })
  t.equal(cancel.status, 202, 'alice cancels it on replica A through the typed route')
  const proxyStream = await operateVia(a, 'proxy', 'stream', second, { bearer: KEYS.alice })
  t.equal(proxyStream.status, 200, 'alice streams its status through the proxy on replica A')
})

/** How many GET commands the Redis server has run. */
async function redisGets (redis: Redis): Promise<number> {
  const stats = await redis.info('commandstats')
  return Number(/cmdstat_get:calls=(\d+)/.exec(stats)?.[1] ?? 0)
}

t.test('a job\'s polls ask Redis who owns it once per replica, and the owner it remembers still refuses others', async t => {
  // Caching off: every poll then goes through admission to fal, and the only GETs are ownership lookups.
  const { emulator, gateways, redis } = await startCluster(t, { replicas: 2, env: { POLICY_FILE: writePolicyFile(t), POLL_CACHE_MAX_BYTES: '0', POLL_PENDING_FRESH_MS: '0' } })
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const [a, b] = gateways as [typeof gateways[0], typeof gateways[0]]
  const observer = new Redis(redis!.url)
  t.teardown(() => observer.quit())

  const submitted = await submitVia(a, 'typed', { bearer: KEYS.alice })
  t.equal(submitted.status, 202, 'alice submits on replica A')
  const id = submitted.json().request_id as string

  for (const [name, gateway, lookups] of [['A, which recorded the owner', a, 0], ['B', b, 1]] as const) {
    const before = await redisGets(observer)
    for (let i = 0; i < 10; i++) {
      const polled = await operateVia(gateway, ROUTES[i % 2] as Route, 'status', id, { bearer: KEYS.alice })
      t.equal(polled.status, 202, `poll ${i + 1} on ${name} is answered`)
    }
    t.equal(await redisGets(observer) - before, lookups, `10 polls on replica ${name} asked Redis for the owner ${lookups} time(s)`)
    const intruder = await operateVia(gateway, 'typed', 'status', id, { bearer: KEYS.bob })
    t.equal(intruder.status, 404, `bob's poll on replica ${name} is still refused`)
  }
  t.equal(callsAbout(emulator, id), 20, 'every one of alice\'s polls reached fal, and none of bob\'s')
  emulator.jobs.release({ requestId: id })
})
