import t from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import { operateVia, startCluster, submitVia, type Route } from '../replicas/cluster.js'
import type { Emulator } from '../../src/emulator/emulator.js'

const statusCalls = (emulator: Emulator, requestId: string) =>
  emulator.callsOf('status').filter(call => call.requestId === requestId).length
const resultCalls = (emulator: Emulator, requestId: string) =>
  emulator.callsOf('result').filter(call => call.requestId === requestId).length

/** Jobs take no time at all here: a request is completed as soon as fal accepted it. */
const INSTANT = { queueMs: 0, processingMs: 0 }

async function completedRequest (gateway: Parameters<typeof submitVia>[0], emulator: Emulator): Promise<string> {
  const submitted = await submitVia(gateway, 'typed')
  const requestId = submitted.json().request_id as string
  emulator.resetCalls()
  return requestId
}

for (const route of ['typed', 'proxy'] as Route[]) {
  t.test(`${route}: 20 concurrent polls of one pending request cost fal one status call`, async t => {
    const { emulator, gateways: [gateway] } = await startCluster(t, {
      replicas: 1,
      redis: false,
      env: { POLL_PENDING_FRESH_MS: '0' }
    })
    emulator.jobs.hold({ phase: 'IN_QUEUE' })
    const requestId = (await submitVia(gateway!, route)).json().request_id as string
    // fal keeps the status call waiting until every poll has reached the gateway (and, in the same
    // turn of its event loop, joined the call in flight).
    emulator.faults.set({ mode: 'hold', operations: ['status'] })
    const before = gateway!.arrived.length
    const polls = Promise.all(Array.from({ length: 20 }, () => operateVia(gateway!, route, 'status', requestId)))
    while (gateway!.arrived.length < before + 20) await sleep(10)
    emulator.faults.clear()
    const answers = await polls
    t.same(new Set(answers.map(answer => answer.status)), new Set([202]), 'every poll answered')
    t.same(new Set(answers.map(answer => answer.json().status)), new Set(['IN_QUEUE']))
    t.equal(statusCalls(emulator, requestId), 1, 'one upstream call for all of them')
  })

  t.test(`${route}: a completed result and status are fetched from fal once`, async t => {
    const { emulator, gateways: [gateway] } = await startCluster(t, { replicas: 1, redis: false, emulator: INSTANT })
    const requestId = await completedRequest(gateway!, emulator)
    for (let i = 0; i < 5; i++) {
      const result = await operateVia(gateway!, route, 'result', requestId)
      t.equal(result.status, 200)
      t.equal(result.headers.get('x-fal-request-id'), requestId)
      t.match(result.json(), { image: { url: String }, seed: Number })
      t.equal((await operateVia(gateway!, route, 'status', requestId)).json().status, 'COMPLETED')
    }
    t.equal(resultCalls(emulator, requestId), 1, 'the result reached fal once')
    t.equal(statusCalls(emulator, requestId), 1, 'the completed status reached fal once')
  })
}

t.test('with the cache off every poll reaches fal (coalescing aside)', async t => {
  const { emulator, gateways: [gateway] } = await startCluster(t, { replicas: 1, redis: false, env: { POLL_CACHE_MAX_BYTES: '0' }, emulator: INSTANT })
  const requestId = await completedRequest(gateway!, emulator)
  for (let i = 0; i < 4; i++) t.equal((await operateVia(gateway!, 'typed', 'result', requestId)).status, 200)
  t.equal(resultCalls(emulator, requestId), 4)
})

t.test('a pending status is reused within its freshness window, then asked again', async t => {
  const { emulator, gateways: [gateway] } = await startCluster(t, {
    replicas: 1,
    redis: false,
    env: { POLL_PENDING_FRESH_MS: '60000' }
  })
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const requestId = (await submitVia(gateway!, 'typed')).json().request_id as string
  for (let i = 0; i < 3; i++) t.equal((await operateVia(gateway!, 'typed', 'status', requestId)).status, 202)
  t.equal(statusCalls(emulator, requestId), 1, 'fresh enough: one call for three polls')
})

t.test('replicas sharing Redis share completed results', async t => {
  const { emulator, gateways: [first, second] } = await startCluster(t, { replicas: 2, emulator: INSTANT })
  const requestId = await completedRequest(first!, emulator)
  t.equal((await operateVia(first!, 'typed', 'result', requestId)).status, 200)
  // The Redis write is not awaited by the first answer, but a later command on the same connection
  // is answered after it: once the PING is back, the shared cache holds the result.
  await first!.app.redis?.ping()
  const onSecond = await operateVia(second!, 'proxy', 'result', requestId)
  t.equal(onSecond.status, 200)
  t.match(onSecond.json(), { image: { url: String } })
  t.equal(resultCalls(emulator, requestId), 1, 'the second replica answered from Redis')
})
