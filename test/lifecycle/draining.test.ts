import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { ILLUSION, illusionInput, submit } from '../routes/queue/queue-client.js'

t.test('once draining, new requests get the gateway\'s 503 SHUTTING_DOWN with Connection: close', async t => {
  const gateway = await startGateway(t)
  t.equal((await gateway.request('/readyz')).status, 200, 'ready before the drain')
  gateway.app.drain()

  const refused = await submit(gateway, ILLUSION, illusionInput)
  t.equal(refused.status, 503)
  t.same(refused.json(), {
    statusCode: 503,
    code: 'SHUTTING_DOWN',
    error: 'Service Unavailable',
    message: 'The gateway is shutting down: retry on another instance'
  })
  t.equal(refused.headers.get('connection'), 'close', 'the connection is closed after the answer')
  t.equal(gateway.emulator.calls.length, 0, 'fal received nothing')

  const ready = await gateway.request('/readyz')
  t.equal(ready.status, 503, 'readiness turns false')
  t.same(ready.json(), { status: 'shutting down' })
  t.equal((await gateway.request('/healthz')).status, 200, 'liveness still answers')
})

t.test('a request in flight when the drain starts finishes, and closes its connection', async t => {
  const gateway = await startGateway(t)
  const { request_id: id } = (await submit(gateway, ILLUSION, illusionInput)).json()
  // fal keeps the poll waiting until the drain has started.
  gateway.emulator.faults.set({ mode: 'hold', operations: ['status'] })
  const poll = gateway.request(`/queue/${ILLUSION}/requests/${id as string}/status`)
  while (gateway.emulator.callsOf('status').length === 0) await new Promise(resolve => setTimeout(resolve, 5))
  gateway.app.drain()
  gateway.emulator.faults.clear()
  const answer = await poll
  t.ok(answer.status === 200 || answer.status === 202, `the poll in flight is answered normally (${answer.status})`)
  t.equal(answer.headers.get('connection'), 'close', 'and its keep-alive connection is not kept for later')
})
