import t from 'tap'
import { ILLUSION } from '../helpers/fixtures.js'
import type { TestGateway } from '../helpers/gateway.js'
import { startCluster } from '../replicas/cluster.js'
import { readStream, type OpenStream } from '../streams/sse-client.js'
import { deliver, nextSecond, startWebhookGateway, submitJob, WEBHOOKS_ON } from './webhook-gateway.js'

async function openEvents (gateway: TestGateway, requestId: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return readStream(await fetch(`${gateway.url}/queue/${ILLUSION}/requests/${requestId}/events`, { headers }))
}

function outcomeOf (stream: string): any {
  const events = stream.split('\n\n').filter(block => block.startsWith('event: outcome'))
  if (events.length !== 1) throw new Error(`expected one outcome event, got ${events.length}`)
  return JSON.parse((events[0] as string).split('\n').find(line => line.startsWith('data: '))?.slice(6) ?? '')
}

async function until (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

t.test('/events keeps a waiting browser with heartbeats, tells the outcome once, and ends', async t => {
  const gateway = await startWebhookGateway(t, { env: { EVENTS_HEARTBEAT_MS: '100' } })
  const requestId = await submitJob(gateway)
  const stream = await openEvents(gateway, requestId)
  t.equal(stream.status, 200)
  await until(() => stream.text().split(': heartbeat').length > 2, 'two heartbeats')
  t.notMatch(stream.text(), /event: outcome/, 'nothing to tell yet')
  t.same(await deliver(gateway, requestId), [200])
  const outcome = outcomeOf(await stream.ended)
  t.match(outcome, { request_id: requestId, status: 'OK', payload: { image: { content_type: 'image/png' } } })
  t.equal(outcome.response_url, `http://gateway.test/queue/${ILLUSION}/requests/${requestId}`)

  const late = await openEvents(gateway, requestId)
  t.match(outcomeOf(await late.ended), { request_id: requestId, status: 'OK' }, 'a browser that comes later is told at once')
})

t.test('/events of another client\'s request is a 404, as if it did not exist', async t => {
  const gateway = await startWebhookGateway(t, { env: { TRUST_PROXY: '127.0.0.1/32' } })
  const requestId = await submitJob(gateway, { 'x-forwarded-for': '198.51.100.7' })
  const stranger = await openEvents(gateway, requestId, { 'x-forwarded-for': '198.51.100.8' })
  t.equal(stranger.status, 404)
  t.match(JSON.parse(await stranger.ended), { code: 'REQUEST_NOT_FOUND' })
})

t.test('two replicas on one Redis: an outcome delivered to one is known to both, and pushed from the other', async t => {
  const { gateways } = await startCluster(t, { env: { ...WEBHOOKS_ON, EVENTS_HEARTBEAT_MS: '200' }, emulator: { queueMs: 600_000 } })
  const [first, second] = gateways as [TestGateway, TestGateway]
  const requestId = await submitJob(first)
  const waiting = await openEvents(second, requestId)
  t.equal(waiting.status, 200)
  await until(() => waiting.text().length > 0, 'the stream open')
  t.same(await deliver(first, requestId), [200], 'fal delivers to the first replica')
  t.match(outcomeOf(await waiting.ended), { request_id: requestId, status: 'OK' }, 'the browser on the second replica is told')
  t.match(await second.app.outcomes.get(requestId), { requestId, status: 'OK' }, 'the second replica knows the outcome')
  await nextSecond()
  t.same(await deliver(second, requestId, 'duplicate'), [200, 409], 'the other replica acknowledges a retry and refuses its replay')
})
