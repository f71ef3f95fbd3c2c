import t, { type Test } from 'tap'
import type { TestResponse } from '../../helpers/gateway.js'
import { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, illusionInput, layerInput, submit, startQueueGateway } from './queue-client.js'

function checkRefusal (t: Test, answer: TestResponse, limit: number): void {
  t.match(answer.json(), { statusCode: 429, code: 'RATE_LIMITED', message: String })
  t.ok(Number(answer.headers.get('retry-after')) > 0, 'Retry-After says when to come back')
  t.equal(answer.headers.get('x-ratelimit-limit'), String(limit))
  t.equal(answer.headers.get('x-ratelimit-remaining'), '0')
  t.ok(Number(answer.headers.get('x-ratelimit-reset')) > 0, 'x-ratelimit-reset is set')
}

t.test('over RATE_LIMIT_SUBMIT_MAX, submits answer 429 and cost nothing upstream', async t => {
  const gateway = await startQueueGateway(t, { env: { RATE_LIMIT_SUBMIT_MAX: '3', RATE_LIMIT_SUBMIT_WINDOW: '600000' } })
  const sequential: TestResponse[] = []
  for (let i = 0; i < 10; i++) sequential.push(await submit(gateway, i % 2 === 0 ? ILLUSION : LAYER, i % 2 === 0 ? illusionInput : layerInput))
  t.same(sequential.map(answer => answer.status), [202, 202, 202, 429, 429, 429, 429, 429, 429, 429], 'the first 3 pass, the rest are refused')
  checkRefusal(t, sequential[3] as TestResponse, 3)

  const concurrent = await Promise.all(Array.from({ length: 20 }, () => submit(gateway, ILLUSION, illusionInput)))
  t.ok(concurrent.every(answer => answer.status === 429), 'once spent, 20 concurrent submits are all refused')
  checkRefusal(t, concurrent[19] as TestResponse, 3)
  t.equal(gateway.emulator.callsOf('submit').length, 3, 'the emulator received exactly 3 submits')

  const poll = await gateway.request(`/queue/${ILLUSION}/requests/${sequential[0]?.json().request_id as string}/status`)
  t.ok(poll.status === 200 || poll.status === 202, `polls draw from their own budget (answered ${poll.status})`)
})

t.test('20 concurrent submits on a fresh budget: exactly the limit reaches fal', async t => {
  const gateway = await startQueueGateway(t, { env: { RATE_LIMIT_SUBMIT_MAX: '3', RATE_LIMIT_SUBMIT_WINDOW: '600000' } })
  const answers = await Promise.all(Array.from({ length: 20 }, () => submit(gateway, ILLUSION, illusionInput)))
  t.equal(answers.filter(answer => answer.status === 202).length, 3, '3 accepted')
  t.equal(answers.filter(answer => answer.status === 429).length, 17, '17 refused')
  t.equal(gateway.emulator.callsOf('submit').length, 3, 'the emulator received exactly 3 submits')
})

t.test('polls have their own budget, RATE_LIMIT_POLL_MAX', async t => {
  // With the poll cache off, every admitted poll is a call to fal, and only those are.
  const gateway = await startQueueGateway(t, { env: { RATE_LIMIT_POLL_MAX: '4', RATE_LIMIT_POLL_WINDOW: '600000', POLL_CACHE_MAX_BYTES: '0' } })
  const { request_id: id } = (await submit(gateway, ILLUSION, illusionInput)).json()
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await gateway.request(`/queue/${ILLUSION}/requests/${id as string}/status`)).status)
  t.same(statuses.slice(0, 4).map(status => status === 200 || status === 202), [true, true, true, true], 'the first 4 polls pass')
  t.same(statuses.slice(4), [429, 429], 'then polls are refused')
  const result = await gateway.request(`/queue/${ILLUSION}/requests/${UNKNOWN_REQUEST_ID}`)
  t.equal(result.status, 429, 'result fetches share the poll budget')
  checkRefusal(t, result, 4)
  t.equal(gateway.emulator.callsOf('status').length, 4, 'refused polls never reach fal')
  t.equal((await submit(gateway, LAYER, layerInput)).status, 202, 'submits are still allowed')
})
