import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { submitVia, type Route } from '../../replicas/cluster.js'
import { LAYER, layerInput, pollUntilCompleted } from '../../routes/queue/queue-client.js'

/** Waits (bounded) for `check`, so a broken gateway fails the test instead of hanging it. */
async function eventually (check: () => boolean | Promise<boolean>, maxMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(20)
  }
  return false
}

async function connectionsTo (gateway: TestGateway): Promise<number> {
  return await new Promise((resolve, reject) => {
    gateway.app.server.getConnections((error, count) => { error === null ? resolve(count) : reject(error) })
  })
}

const QUEUE_HOST = 'https://queue.fal.run'

/**
 * `count` clients submit at once while fal holds every submit; each hangs up once the gateway has
 * either answered it (a 429) or sent its job to fal. Resolves with the statuses of those answered.
 */
async function hangUps (t: Test, gateway: TestGateway, route: Route, count: number, reachingFal: number): Promise<number[]> {
  const submitsBefore = gateway.emulator.callsOf('submit').length
  gateway.emulator.faults.set({ mode: 'hold', operations: ['submit'] })
  const clients = Array.from({ length: count }, () => new AbortController())
  const answered: number[] = []
  const body = JSON.stringify(layerInput)
  const pending = clients.map(async client => {
    const init = { method: 'POST', body, signal: client.signal }
    const response = route === 'typed'
      ? await fetch(`${gateway.url}/queue/${LAYER}`, { ...init, headers: { 'content-type': 'application/json' } })
      : await fetch(`${gateway.url}/api/fal/proxy`, { ...init, headers: { 'content-type': 'application/json', 'x-fal-target-url': `${QUEUE_HOST}/${LAYER}` } })
    await response.text()
    answered.push(response.status)
  }).map(async call => { await call.catch(() => {}) })
  t.ok(await eventually(() => gateway.emulator.callsOf('submit').length === submitsBefore + reachingFal && answered.length === count - reachingFal),
    `${reachingFal} submit(s) reached fal, the other ${count - reachingFal} were answered`)
  const open = await connectionsTo(gateway)
  for (const client of clients) client.abort()
  await Promise.all(pending)
  t.ok(await eventually(async () => await connectionsTo(gateway) <= open - reachingFal), 'the gateway saw the held clients hang up')
  // fal answers the held submits only now, after their clients are gone.
  gateway.emulator.faults.clear()
  return answered
}

for (const route of ['typed', 'proxy'] as const) {
  t.test(`${route} route: clients hanging up while fal holds their submits leave the jobs-in-flight cap and the daily quota exact`, async t => {
    const gateway = await startGateway(t, {
      env: { MAX_IN_FLIGHT: '2', DAILY_SUBMIT_QUOTA: '3', RATE_LIMIT_SUBMIT_MAX: '1000', UPSTREAM_TIMEOUT_MS: '60000' },
      emulator: { queueMs: 60, processingMs: 60 }
    })
    // Accepted jobs wait in fal's queue, so the test knows their ids and ends them when it chooses.
    gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })

    const first = await hangUps(t, gateway, route, 6, 2)
    t.same(first, [429, 429, 429, 429], 'beyond the two slots, the gateway refused and fal received nothing')
    t.ok(await eventually(() => gateway.emulator.jobs.holds.jobs.length === 2), 'fal accepted both jobs whose clients had gone')

    const next = await submitVia(gateway, route, { appId: LAYER })
    t.equal(next.status, 429, 'the next submit is refused: the gone clients\' jobs still count')
    t.equal(next.json().code, 'CONCURRENCY_LIMIT')
    t.equal(next.headers.get('x-jobs-in-flight'), '2', 'both jobs are in flight')
    t.equal(next.headers.get('x-quota-remaining'), '1', 'both jobs used the quota')

    // The jobs are owned by the client that left: it can still follow them, which ends them.
    const ids = gateway.emulator.jobs.holds.jobs.map(job => job.requestId)
    t.ok(await eventually(() => gateway.logs.filter(line => line.includes('submitted to fal')).length === 2), 'both jobs were recorded with their owner')
    gateway.emulator.jobs.release({ phase: 'IN_QUEUE' })
    for (const id of ids) {
      const answers = await pollUntilCompleted(gateway, `/queue/${LAYER}/requests/${id}/status`)
      t.equal(answers.at(-1)?.status, 200, 'the client that hung up owns its job and sees it complete')
    }

    gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
    const second = await hangUps(t, gateway, route, 6, 1)
    t.same(second, [429, 429, 429, 429, 429], 'only the quota\'s last submit reached fal')
    t.ok(await eventually(() => gateway.emulator.jobs.holds.jobs.length === 1), 'fal accepted it')

    const last = await submitVia(gateway, route, { appId: LAYER })
    t.equal(last.status, 429)
    t.equal(last.json().code, 'QUOTA_EXCEEDED', 'the daily quota is used up')
    t.equal(last.headers.get('x-quota-remaining'), '0')
    t.equal(gateway.emulator.callsOf('submit').length, 3, 'fal received exactly the daily quota of jobs, whatever the clients did')
    gateway.emulator.jobs.release({})
  })
}
