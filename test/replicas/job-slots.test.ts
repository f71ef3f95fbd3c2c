import t, { type Test } from 'tap'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TestGateway, TestResponse } from '../helpers/gateway.js'
import { operateVia, startCluster, submitVia, type Route } from './cluster.js'

function checkRefusal (t: Test, answer: TestResponse, code: 'CONCURRENCY_LIMIT' | 'QUOTA_EXCEEDED', what: string): void {
  t.equal(answer.status, 429, `${what}: 429`)
  t.equal(answer.json().code, code, `${what}: ${code}`)
  t.ok(Number(answer.headers.get('retry-after')) > 0, `${what}: Retry-After`)
}

async function accepted (t: Test, gateway: TestGateway, route: Route, what: string): Promise<TestResponse> {
  const answer = await submitVia(gateway, route)
  t.ok(answer.status === 200 || answer.status === 202, `${what} is accepted (${answer.status} ${answer.status >= 300 ? answer.text : ''})`)
  return answer
}

async function pollUntilCompleted (gateway: TestGateway, route: Route, requestId: string): Promise<string | undefined> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    const answer = await operateVia(gateway, route, 'status', requestId)
    const status = answer.json().status as string | undefined
    if (status === 'COMPLETED' || answer.status >= 300) return status
    await sleep(50)
  }
  return undefined
}

t.test('MAX_IN_FLIGHT holds across replicas; a cancel or a completion frees the slot', async t => {
  const cluster = await startCluster(t, { env: { MAX_IN_FLIGHT: '2', DAILY_SUBMIT_QUOTA: '100' } })
  const [a, b] = cluster.gateways as [TestGateway, TestGateway]
  // Jobs stay in fal's queue until the test lets one go: a cancel always finds them there.
  cluster.emulator.jobs.hold({ phase: 'IN_QUEUE' })

  const first = await accepted(t, a, 'typed', 'job 1 on A')
  t.equal(first.headers.get('x-jobs-in-flight'), '1', 'x-jobs-in-flight counts it')
  const second = await accepted(t, b, 'proxy', 'job 2 on B through the proxy')
  t.equal(second.headers.get('x-jobs-in-flight'), '2', 'and the other replica sees both')
  const third = await submitVia(a, 'proxy')
  checkRefusal(t, third, 'CONCURRENCY_LIMIT', 'a third job on A')
  t.equal(third.headers.get('x-jobs-in-flight'), '2', 'the refusal tells how many are in flight')
  checkRefusal(t, await submitVia(b, 'typed'), 'CONCURRENCY_LIMIT', 'a third job on B')
  t.equal(cluster.emulator.callsOf('submit').length, 2, 'refused submits never reach fal')

  t.equal((await operateVia(a, 'proxy', 'cancel', second.json().request_id)).status, 202, 'job 2 is cancelled on the other replica')
  await accepted(t, b, 'typed', 'after the cancel, job 3 on B')
  checkRefusal(t, await submitVia(a, 'typed'), 'CONCURRENCY_LIMIT', 'with jobs 1 and 3 in flight, another')

  cluster.emulator.jobs.release({ requestId: first.json().request_id })
  t.equal(await pollUntilCompleted(b, 'typed', first.json().request_id), 'COMPLETED', 'job 1 is polled to COMPLETED on B')
  await accepted(t, a, 'proxy', 'after the completion, job 4 on A')
  t.equal(cluster.emulator.callsOf('submit').length, 4, 'fal received exactly the 4 admitted submits')
})

t.test('DAILY_SUBMIT_QUOTA holds across replicas and a finished job does not give it back', async t => {
  const cluster = await startCluster(t, { env: { MAX_IN_FLIGHT: '100', DAILY_SUBMIT_QUOTA: '3' } })
  const [a, b] = cluster.gateways as [TestGateway, TestGateway]
  cluster.emulator.jobs.hold({ phase: 'IN_QUEUE' })

  const remaining: Array<string | null> = []
  const submitted: TestResponse[] = []
  for (const [gateway, route, what] of [[a, 'typed', 'A'], [b, 'proxy', 'B'], [a, 'proxy', 'A']] as const) {
    const answer = await accepted(t, gateway, route, `a submit on ${what} (${route})`)
    submitted.push(answer)
    remaining.push(answer.headers.get('x-quota-remaining'))
  }
  t.same(remaining, ['2', '1', '0'], 'x-quota-remaining counts down across replicas')
  const over = await submitVia(b, 'typed')
  checkRefusal(t, over, 'QUOTA_EXCEEDED', 'a fourth submit on B')
  t.equal(over.headers.get('x-quota-remaining'), '0')
  t.ok(Number(over.headers.get('retry-after')) <= 86_400, 'Retry-After points at the next UTC midnight at the latest')

  t.equal((await operateVia(b, 'typed', 'cancel', submitted[0]?.json().request_id)).status, 202, 'a job is cancelled')
  checkRefusal(t, await submitVia(a, 'proxy'), 'QUOTA_EXCEEDED', 'after the cancel, a submit on A')
  t.equal(cluster.emulator.callsOf('submit').length, 3, 'fal received exactly the quota')
})

t.test('a submit fal refuses gives its slot and its quota back', async t => {
  const cluster = await startCluster(t, { env: { MAX_IN_FLIGHT: '2', DAILY_SUBMIT_QUOTA: '3' } })
  const [a, b] = cluster.gateways as [TestGateway, TestGateway]
  cluster.emulator.jobs.hold({ phase: 'IN_QUEUE' })

  cluster.emulator.faults.set({ mode: 'status', status: 500, operations: ['submit'], count: 1 })
  const refused = await submitVia(a, 'typed')
  t.ok(refused.status >= 500 && refused.status < 600 && refused.status !== 500, `fal's 500 becomes a gateway 5xx (${refused.status})`)
  t.equal(cluster.emulator.callsOf('submit').length, 1, 'the failed submit was sent once, never re-sent')

  await accepted(t, b, 'proxy', 'a submit on B')
  const second = await accepted(t, a, 'typed', 'a submit on A')
  t.equal(second.headers.get('x-jobs-in-flight'), '2', 'the failed submit holds no slot')
  t.equal(second.headers.get('x-quota-remaining'), '1', 'and used no quota')
  checkRefusal(t, await submitVia(b, 'typed'), 'CONCURRENCY_LIMIT', 'a third job in flight')

  t.equal((await operateVia(b, 'typed', 'cancel', second.json().request_id)).status, 202, 'a job is cancelled')
  const third = await accepted(t, b, 'typed', 'the third successful submit of the day')
  t.equal(third.headers.get('x-quota-remaining'), '0')
  t.equal((await operateVia(a, 'proxy', 'cancel', third.json().request_id)).status, 202, 'another is cancelled')
  checkRefusal(t, await submitVia(a, 'typed'), 'QUOTA_EXCEEDED', 'a fourth successful submit')
  t.equal(cluster.emulator.callsOf('submit').length, 4, 'fal received the failed submit and the 3 of the quota')
})
