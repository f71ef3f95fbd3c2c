import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { waitForRedis } from '../../../src/redis/redis-client.js'
import type { TestGateway, TestResponse } from '../../helpers/gateway.js'
import { UNKNOWN_REQUEST_ID, operateVia, startCluster, submitVia, type Cluster, type Route } from '../../replicas/cluster.js'

// Generous: only "bounded" versus "hanging" matters, on a machine as busy as it gets.
const BOUND_MS = 10_000
const ROUTES: Route[] = ['typed', 'proxy']
// A killed Redis refuses connections at once, so the timeout is not what bounds those answers; a
// generous one keeps the burst after the restart on Redis on a loaded machine (in fail-open mode a
// timed-out command would fall back to this node's counters).
const KILL_TIMEOUTS = { REDIS_COMMAND_TIMEOUT_MS: '5000' }

async function timed (request: () => Promise<TestResponse>): Promise<{ answer: TestResponse, ms: number }> {
  const started = performance.now()
  const answer = await request()
  return { answer, ms: performance.now() - started }
}

/**
 * Waits until the replica's Redis connection is back (in fail-open mode answers alone cannot tell),
 * then until a poll of an id nobody owns answers something other than 503.
 */
async function waitForRecovery (gateway: TestGateway): Promise<boolean> {
  const deadline = Date.now() + 10_000
  const connected = await waitForRedis(gateway.app.redis!, 10_000).then(() => true, () => false)
  if (!connected) return false
  while (Date.now() < deadline) {
    if ((await operateVia(gateway, 'typed', 'status', UNKNOWN_REQUEST_ID)).status !== 503) return true
    await sleep(100)
  }
  return false
}

/** Polls a job's status on the replica that took it until fal says it ended. */
async function pollUntilCompleted (gateway: TestGateway, requestId: string): Promise<boolean> {
  const deadline = Date.now() + BOUND_MS
  while (Date.now() < deadline) {
    const polled = await operateVia(gateway, 'typed', 'status', requestId)
    if (polled.status === 200 && polled.json().status === 'COMPLETED') return true
    await sleep(50)
  }
  return false
}

/** Waits until the replica has written every job it admitted while the store was away. */
async function waitForJournal (gateway: TestGateway): Promise<boolean> {
  const deadline = Date.now() + BOUND_MS
  while (gateway.app.spend.writeAhead.journal.size > 0) {
    if (Date.now() > deadline) return false
    await sleep(50)
  }
  return true
}

/** After a restart (Redis comes back empty) a burst of 40 submits over both replicas and routes. */
async function burstAfterRestart (t: Test, cluster: Cluster, limit: number, what: string): Promise<void> {
  const before = cluster.emulator.callsOf('submit').length
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) =>
    submitVia(cluster.gateways[i % 2] as TestGateway, ROUTES[Math.floor(i / 2) % 2] as Route)))
  t.equal(cluster.emulator.callsOf('submit').length - before, limit, `${what}: exactly ${limit} submits reach fal`)
  t.equal(answers.filter(answer => answer.status < 300).length, limit, `${what}: ${limit} accepted`)
  t.equal(answers.filter(answer => answer.status === 429).length, 40 - limit, `${what}: the rest are 429`)
}

t.test('REDIS_FAIL_MODE=closed: 503 STORE_UNAVAILABLE within a bounded time, then limits again once Redis is back', async t => {
  const cluster = await startCluster(t, { env: { RATE_LIMIT_SUBMIT_MAX: '5', RATE_LIMIT_SUBMIT_WINDOW: '600000', ...KILL_TIMEOUTS } })
  const redis = cluster.redis!
  const [a, b] = cluster.gateways as [TestGateway, TestGateway]
  const submitted = await submitVia(a, 'typed')
  t.equal(submitted.status, 202, 'with Redis up, a submit passes')

  await redis.kill()
  const answers: Array<{ answer: TestResponse, ms: number }> = []
  for (const gateway of [a, b]) {
    for (const route of ROUTES) {
      answers.push(await timed(() => submitVia(gateway, route)))
      answers.push(await timed(() => operateVia(gateway, route, 'status', submitted.json().request_id)))
    }
  }
  for (const { answer, ms } of answers) {
    t.equal(answer.status, 503, `503 while Redis is down (${answer.status})`)
    t.ok(ms < BOUND_MS, `answered in ${Math.round(ms)} ms (< ${BOUND_MS} ms)`)
    t.same(answer.json(), { statusCode: 503, code: 'STORE_UNAVAILABLE', error: 'Service Unavailable', message: 'Limit store unavailable' }, 'a clean body')
    t.notMatch(answer.text, new RegExp(`127\\.0\\.0\\.1|${redis.port}|redis|ECONN`, 'i'), 'naming no host, port or cause')
  }
  t.equal(cluster.emulator.callsOf('submit').length, 1, 'nothing reached fal during the outage')
  t.ok(a.logs.some(line => line.includes('STORE_UNAVAILABLE')), 'the refusals are logged')

  await redis.start()
  t.ok(await waitForRecovery(a) && await waitForRecovery(b), 'both replicas recover by themselves')
  await burstAfterRestart(t, cluster, 5, 'RATE_LIMIT_SUBMIT_MAX=5 after the restart')
})

t.test('REDIS_FAIL_MODE=open: admitted during the outage, counted per replica; once Redis is back they count on every replica until they end, then the shared limit holds', async t => {
  const cluster = await startCluster(t, { env: { REDIS_FAIL_MODE: 'open', MAX_IN_FLIGHT: '3', RATE_LIMIT_SUBMIT_MAX: '1000', ...KILL_TIMEOUTS } })
  const redis = cluster.redis!
  const [a, b] = cluster.gateways as [TestGateway, TestGateway]

  await redis.kill()
  const stillRunning: Array<{ gateway: TestGateway, id: string }> = []
  for (const [name, gateway] of [['A', a], ['B', b]] as const) {
    const answers: Array<{ answer: TestResponse, ms: number }> = []
    for (let i = 0; i < 4; i++) answers.push(await timed(() => submitVia(gateway, ROUTES[i % 2] as Route)))
    t.same(answers.map(({ answer }) => answer.status), [202, 200, 202, 429], `replica ${name} admits its own 3 jobs in flight, then refuses`)
    t.equal(answers[3]?.answer.json().code, 'CONCURRENCY_LIMIT')
    t.ok(answers.every(({ ms }) => ms < BOUND_MS), `replica ${name} answered each within ${BOUND_MS} ms`)
    const [first, ...others] = answers.slice(0, 3).map(({ answer }) => answer.json().request_id as string)
    t.ok(await pollUntilCompleted(gateway, first as string), `a job submitted on ${name} during the outage stays reachable there, to its end`)
    for (const id of others) stillRunning.push({ gateway, id })
  }
  t.equal(cluster.emulator.callsOf('submit').length, 6, 'each replica let its own limit through (fail open)')
  t.ok(a.logs.some(line => line.includes('counting on this node')), 'the fallback is logged')

  await redis.start()
  t.ok(await waitForRecovery(a) && await waitForRecovery(b), 'both replicas recover by themselves')
  t.ok(await waitForJournal(a) && await waitForJournal(b), 'each replica writes the jobs it admitted into the store once it is back')
  const counted = await submitVia(b, 'typed')
  t.equal(counted.status, 429, 'the jobs admitted during the outage count on every replica')
  t.equal(counted.headers.get('x-jobs-in-flight'), '4', 'all but the two seen ending during the outage')

  for (const { gateway, id } of stillRunning) t.ok(await pollUntilCompleted(gateway, id), 'the other jobs end and give their slots back')
  await burstAfterRestart(t, cluster, 3, 'MAX_IN_FLIGHT=3 across both replicas after the restart')
})

t.test('a frozen Redis (connections open, no answers) is bounded by REDIS_COMMAND_TIMEOUT_MS', async t => {
  const cluster = await startCluster(t, { replicas: 1, env: { REDIS_COMMAND_TIMEOUT_MS: '300' } })
  const redis = cluster.redis!
  const gateway = cluster.gateways[0] as TestGateway
  redis.freeze()
  t.teardown(() => { redis.thaw() })
  for (const route of ROUTES) {
    const { answer, ms } = await timed(() => submitVia(gateway, route))
    t.equal(answer.status, 503, `a submit while Redis hangs is 503 (${route})`)
    t.equal(answer.json().code, 'STORE_UNAVAILABLE')
    t.ok(ms < BOUND_MS, `answered in ${Math.round(ms)} ms (< ${BOUND_MS} ms)`)
  }
  redis.thaw()
  t.ok(await waitForRecovery(gateway), 'the replica recovers once Redis answers again')
  t.equal((await submitVia(gateway, 'typed')).status, 202, 'and admits again')
})
