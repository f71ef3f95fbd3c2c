import t from 'tap'
import type { TestGateway } from '../helpers/gateway.js'
import { callsAbout, operateVia, startCluster, submitVia, type Route } from '../replicas/cluster.js'
import { ILLUSION } from '../helpers/fixtures.js'
import { counter, deliver, startWebhookGateway, WEBHOOKS_ON } from './webhook-gateway.js'

const ROUTES: Route[] = ['typed', 'proxy']
const SECRET = `whsec_${Buffer.from('a client-webhook secret of 32 b!').toString('base64')}`

/** The `fal_webhook` fal was asked for on the emulator's latest submit. */
function lastFalWebhook (gateway: TestGateway): string | null {
  const submit = gateway.emulator.callsOf('submit').at(-1)
  if (submit === undefined) throw new Error('no submit reached fal')
  return new URL(submit.url, 'http://emulator').searchParams.get('fal_webhook')
}

for (const route of ROUTES) {
  t.test(`${route} submit with FAL_WEBHOOKS=on: fal is asked for the gateway's receiver, never the client's URL`, async t => {
    const gateway = await startWebhookGateway(t, { env: { WEBHOOK_SECRET: SECRET, WEBHOOK_HOSTS: 'hooks.example.com' } })
    t.ok((await submitVia(gateway, route)).status < 300, 'accepted')
    t.equal(lastFalWebhook(gateway), 'http://gateway.test/webhooks/fal', 'a plain submit')

    const clientUrl = encodeURIComponent('https://hooks.example.com/fal?app=1')
    const withOwn = route === 'typed'
      ? await gateway.request(`/queue/${ILLUSION}?fal_webhook=${clientUrl}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image_url: 'https://example.com/p.png', prompt: 'x' }) })
      : await submitVia(gateway, route, { appId: `${ILLUSION}?fal_webhook=${clientUrl}`, input: { image_url: 'https://example.com/p.png', prompt: 'x' } })
    t.ok(withOwn.status < 300, withOwn.text)
    t.equal(lastFalWebhook(gateway), 'http://gateway.test/webhooks/fal', "the client's webhook stays with the gateway")
  })

  t.test(`${route} submit with a client webhook but no WEBHOOK_SECRET: a clear 400, nothing reaches fal`, async t => {
    const gateway = await startWebhookGateway(t, { env: { WEBHOOK_HOSTS: 'hooks.example.com' } })
    const clientUrl = encodeURIComponent('https://hooks.example.com/fal')
    const input = { image_url: 'https://example.com/p.png', prompt: 'x' }
    const answer = route === 'typed'
      ? await gateway.request(`/queue/${ILLUSION}?fal_webhook=${clientUrl}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) })
      : await submitVia(gateway, route, { appId: `${ILLUSION}?fal_webhook=${clientUrl}`, input })
    t.equal(answer.status, 400)
    t.equal(answer.json().code, 'CLIENT_WEBHOOKS_DISABLED')
    t.equal(gateway.emulator.callsOf('submit').length, 0)
  })
}

t.test('FAL_WEBHOOKS=off: a client\'s allowlisted webhook goes to fal as before', async t => {
  const { gateways } = await startCluster(t, { replicas: 1, redis: false, env: { WEBHOOK_HOSTS: 'hooks.example.com' } })
  const gateway = gateways[0] as TestGateway
  const answer = await gateway.request(`/queue/${ILLUSION}?fal_webhook=${encodeURIComponent('https://hooks.example.com/x')}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ image_url: 'https://example.com/p.png', prompt: 'x' })
  })
  t.equal(answer.status, 202)
  t.equal(lastFalWebhook(gateway), 'https://hooks.example.com/x')
})

t.test('after a verified webhook, status and result are served on both routes and both replicas with no call to fal', async t => {
  const { gateways } = await startCluster(t, { env: WEBHOOKS_ON, emulator: { queueMs: 600_000 } })
  const [first, second] = gateways as [TestGateway, TestGateway]
  for (const route of ROUTES) {
    const requestId = (await submitVia(first, route)).json().request_id as string
    const pending = await operateVia(first, route, 'status', requestId)
    t.equal(pending.json().status, 'IN_QUEUE', 'pending: fal is asked')
    t.same(await deliver(first, requestId), [200], 'fal delivers the outcome to the first replica')
    const before = callsAbout(first.emulator, requestId)

    for (const [name, gateway] of [['first', first], ['second', second]] as const) {
      for (const via of ROUTES) {
        const status = await operateVia(gateway, via, 'status', requestId)
        t.equal(status.status, 200, `${via} status on the ${name} replica`)
        t.match(status.json(), { status: 'COMPLETED', request_id: requestId })
        const result = await operateVia(gateway, via, 'result', requestId)
        t.equal(result.status, 200, `${via} result on the ${name} replica`)
        t.match(result.json(), { image: { content_type: 'image/png' } })
        t.equal(result.headers.get('x-fal-request-id'), requestId)
      }
    }
    t.equal(callsAbout(first.emulator, requestId), before, `submitted on the ${route} route: no call about the job reached fal after its webhook`)
  }
  t.equal(await counter(second, 'fal_gateway_polls_answered_without_fal_total', { operation: 'result' }), 4)
  const typedStatus = await operateVia(first, 'typed', 'status', (await submitVia(first, 'typed')).json().request_id)
  t.match(typedStatus.json().status_url, /^http:\/\/gateway\.test\/queue\//, 'typed answers still point at the gateway')
})

t.test('a lost webhook: polling falls back to fal and the job completes', async t => {
  // fal posts to http://gateway.test, which nobody can reach: every webhook is lost.
  const gateway = await startWebhookGateway(t, { emulator: { queueMs: 50, processingMs: 100 } })
  const requestId = (await submitVia(gateway, 'typed')).json().request_id as string
  let status = ''
  for (let polls = 0; status !== 'COMPLETED' && polls < 1000; polls++) {
    status = (await operateVia(gateway, 'proxy', 'status', requestId)).json().status
    if (status !== 'COMPLETED') await new Promise(resolve => setTimeout(resolve, 50))
  }
  t.equal(status, 'COMPLETED', "fal's own status says it ended")
  const result = await operateVia(gateway, 'proxy', 'result', requestId)
  t.equal(result.status, 200)
  t.ok(gateway.emulator.callsOf('result').some(call => call.requestId === requestId), 'the result came from fal')
})
