import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { startGateway } from '../../helpers/gateway.js'
import { ILLUSION, illusionInput, submit } from '../../routes/queue/queue-client.js'

/**
 * Blocks this process's event loop (the gateway's too: it runs here) across two 1 s samples of the
 * load gauge, so that the gauge's latest sample surely holds the lag when the test asks.
 */
async function lagTheEventLoop (): Promise<void> {
  for (let block = 0; block < 2; block++) {
    const until = Date.now() + 1100
    while (Date.now() < until) { /* the event loop is blocked */ }
    await sleep(20)
  }
}

t.test('overloaded past the grace: requests get 503 OVERLOADED with Retry-After, /readyz says overloaded, liveness answers', async t => {
  const gateway = await startGateway(t, { env: { MAX_EVENT_LOOP_DELAY_MS: '1', LOAD_SHED_GRACE_MS: '0' } })
  await lagTheEventLoop()
  const [shed, ready, health] = await Promise.all([submit(gateway, ILLUSION, illusionInput), gateway.request('/readyz'), gateway.request('/healthz')])
  t.equal(shed.status, 503)
  t.match(shed.json(), { statusCode: 503, code: 'OVERLOADED', error: 'Service Unavailable', message: String })
  t.equal(shed.headers.get('retry-after'), '5', 'Retry-After says when to come back')
  t.equal(ready.status, 503, '/readyz is not 200 while the node sheds')
  t.same(ready.json(), { status: 'overloaded' })
  t.equal(health.status, 200, 'liveness answers even under pressure')
  t.equal(gateway.emulator.callsOf('submit').length, 0, 'the shed request never reached fal')
})

t.test('overloaded within the grace: /readyz turns 503 first, requests are still served', async t => {
  const gateway = await startGateway(t, { env: { MAX_EVENT_LOOP_DELAY_MS: '1', LOAD_SHED_GRACE_MS: '600000' } })
  await lagTheEventLoop()
  const [served, ready] = await Promise.all([submit(gateway, ILLUSION, illusionInput), gateway.request('/readyz')])
  t.equal(ready.status, 503, 'the balancer is told to stop sending')
  t.same(ready.json(), { status: 'overloaded' })
  t.equal(served.status, 202, 'but what it already sent is answered')
  t.equal(gateway.emulator.callsOf('submit').length, 1)
})

t.test('start-up work is not load: right after a slow start the node is ready and sheds nothing', async t => {
  // A start on a busy machine: seconds of work before listen (a no-grace, low threshold).
  const gateway = await startGateway(t, {
    env: { MAX_EVENT_LOOP_DELAY_MS: '200', LOAD_SHED_GRACE_MS: '0' },
    prepare: () => {
      const until = Date.now() + 2200
      while (Date.now() < until) { /* start-up work */ }
    }
  })
  const [answer, ready] = await Promise.all([submit(gateway, ILLUSION, illusionInput), gateway.request('/readyz')])
  t.equal(answer.status, 202, 'the first request is served, not shed')
  t.equal(ready.status, 200)
  t.same(ready.json(), { status: 'ready' })
})
