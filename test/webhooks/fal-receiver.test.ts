import t from 'tap'
import { FAL_KEY, startGateway } from '../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../helpers/fixtures.js'
import { counter, deliver, nextSecond, startWebhookGateway, submitJob, until } from './webhook-gateway.js'

t.test('a signed delivery from the emulator is accepted and stored as the job\'s outcome', async t => {
  const gateway = await startWebhookGateway(t)
  const requestId = await submitJob(gateway)
  t.same(await deliver(gateway, requestId), [200])
  const outcome = await gateway.app.outcomes.get(requestId)
  t.match(outcome, { requestId, status: 'OK' })
  t.match(JSON.parse(outcome?.body ?? '{}'), { request_id: requestId, status: 'OK', payload: { image: { content_type: 'image/png' } } }, 'fal\'s body, as received')
  t.equal(await counter(gateway, 'fal_gateway_fal_webhooks_received_total'), 1)
  t.equal(await counter(gateway, 'fal_gateway_fal_webhooks_accepted_total', { result: 'recorded' }), 1)

  // fal retries until it sees a 2xx; a later genuine delivery (new timestamp) is acknowledged, not recorded twice.
  await nextSecond()
  t.same(await deliver(gateway, requestId), [200])
  t.equal(await counter(gateway, 'fal_gateway_fal_webhooks_accepted_total', { result: 'known' }), 1)
})

t.test('every bad delivery is refused with a 4xx and changes nothing', async t => {
  const gateway = await startWebhookGateway(t)
  const requestId = await submitJob(gateway)
  const refusals = [
    ['forged', 401, 'forged'],
    ['tampered', 401, 'forged'],
    ['unsigned', 401, 'unsigned'],
    ['stale', 401, 'stale'],
    ['oversized', 413, 'oversized']
  ] as const
  for (const [kind, status, reason] of refusals) {
    t.same(await deliver(gateway, requestId, kind), [status], `${kind}: ${status}`)
    t.equal(await gateway.app.outcomes.get(requestId), undefined, `${kind}: nothing recorded`)
    t.ok(await counter(gateway, 'fal_gateway_fal_webhooks_refused_total', { reason }) >= 1, `${kind}: counted as ${reason}`)
  }

  const direct = await fetch(`${gateway.emulatorUrl}/${ILLUSION}`, {
    method: 'POST',
    headers: { authorization: `Key ${FAL_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(illusionInput)
  })
  const notOurs = ((await direct.json()) as { request_id: string }).request_id
  t.same(await deliver(gateway, notOurs), [404], 'a request the gateway did not submit')
  t.equal(await gateway.app.outcomes.get(notOurs), undefined)

  t.same(await deliver(gateway, requestId, 'duplicate'), [200, 409], 'the same signed delivery twice: the replay is refused')
  t.equal(await counter(gateway, 'fal_gateway_fal_webhooks_refused_total', { reason: 'replayed' }), 1)
  t.equal(await counter(gateway, 'fal_gateway_fal_webhooks_accepted_total', { result: 'recorded' }), 1, 'recorded once')

  const answer = await gateway.request('/webhooks/fal', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.match(answer.json(), { statusCode: 401, code: 'WEBHOOK_UNSIGNED' }, 'refusals speak the gateway\'s error shape')
})

t.test('a new signing key is fetched when no cached key verifies; refreshes are rate-limited', async t => {
  const gateway = await startWebhookGateway(t, { env: { FAL_JWKS_MIN_REFRESH_MS: '0' } })
  const { webhooks } = gateway.emulator
  t.same(await deliver(gateway, await submitJob(gateway)), [200])
  t.equal(webhooks.jwksFetches, 1, 'fetched once')
  t.same(await deliver(gateway, await submitJob(gateway)), [200])
  t.equal(webhooks.jwksFetches, 1, 'then cached')

  webhooks.keys.rotate(true)
  const rotated = await submitJob(gateway)
  t.same(await deliver(gateway, rotated), [200], 'signed by the new key: accepted')
  t.equal(webhooks.jwksFetches, 2, 'after one refresh')
  t.match(await gateway.app.outcomes.get(rotated), { status: 'OK' })

  const limited = await startWebhookGateway(t)
  const job = await submitJob(limited)
  t.same(await deliver(limited, job), [200])
  for (let i = 0; i < 5; i++) t.same(await deliver(limited, job, 'forged'), [401])
  t.equal(limited.emulator.webhooks.jwksFetches, 1, 'forgeries inside the cool-down cause no refresh')
})

t.test('a JWKS outage is answered 503, and fal\'s retry succeeds once it is back', async t => {
  const gateway = await startWebhookGateway(t, { emulator: { webhookRetryDelaysMs: Array(9).fill(150) } })
  const { webhooks } = gateway.emulator
  const requestId = await submitJob(gateway)
  webhooks.jwksAvailable = false
  webhooks.post(`${gateway.url}/webhooks/fal`, { request_id: requestId, gateway_request_id: requestId, status: 'OK', payload: { seed: 7 } })
  await until(() => webhooks.deliveries.some(d => d.status === 503), 'a 503')
  t.equal(await gateway.app.outcomes.get(requestId), undefined, 'nothing accepted unverified')
  t.ok(await counter(gateway, 'fal_gateway_fal_webhooks_refused_total', { reason: 'jwks_unavailable' }) >= 1)
  webhooks.jwksAvailable = true
  await until(() => webhooks.deliveries.some(d => d.status === 200), 'fal\'s retry accepted')
  t.match(await gateway.app.outcomes.get(requestId), { status: 'OK' })
  t.same(webhooks.deliveries.map(d => d.status).slice(-1), [200], 'retries stop after the 2xx')
})

t.test('without FAL_WEBHOOKS=on there is no receiver', async t => {
  const gateway = await startGateway(t)
  const answer = await gateway.request('/webhooks/fal', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  t.equal(answer.status, 404)
})
