import t from 'tap'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { Webhook } from 'standardwebhooks'
import { waitForRedis } from '../../../src/redis/redis-client.js'
import { startGatewayOn, type TestGateway } from '../../helpers/gateway.js'
import { freePort } from '../../helpers/free-port.js'
import { startRedisServer } from '../../helpers/redis-server.js'
import { createEmulator } from '../../../src/emulator/emulator.js'
import { FAL_KEY, json } from '../../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../../helpers/fixtures.js'
import { counter, deliver, nextSecond, startWebhookGateway, until, WEBHOOKS_ON } from '../webhook-gateway.js'

const SECRET = `whsec_${Buffer.from('a client-webhook secret of 32 b!').toString('base64')}`
const ADMIN_TOKEN = 'admin-token-for-webhook-tests'
const CLIENT_WEBHOOKS = {
  WEBHOOK_SECRET: SECRET,
  WEBHOOK_HOSTS: '127.0.0.1',
  WEBHOOK_ALLOW_LOOPBACK: 'true',
  WEBHOOK_RETRY_BASE_MS: '50',
  WEBHOOK_RETRY_MAX_MS: '200',
  WEBHOOK_MAX_ATTEMPTS: '100',
  ADMIN_TOKEN
}

interface Delivery { headers: IncomingHttpHeaders, body: string }

/** A client's webhook receiver on `port`: records what it gets, answers `status()`. */
async function startReceiver (t: Test, port = 0, status: () => number = () => 204): Promise<{ url: string, port: number, received: Delivery[], server: Server }> {
  const received: Delivery[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', chunk => { body += chunk as string })
    request.on('end', () => {
      received.push({ headers: request.headers, body })
      response.writeHead(status()).end()
    })
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise(resolve => { server.closeAllConnections(); server.close(resolve) }))
  const bound = (server.address() as AddressInfo).port
  return { url: `http://127.0.0.1:${bound}/hooks/fal?app=7`, port: bound, received, server }
}

/** A submitted job whose client asked for `url`, and its verified outcome delivered by fal. */
async function jobWithClientWebhook (gateway: TestGateway, url: string): Promise<string> {
  const answer = await gateway.request(`/queue/${ILLUSION}?fal_webhook=${encodeURIComponent(url)}`, json(illusionInput))
  if (answer.status !== 202) throw new Error(`submit answered ${answer.status}: ${answer.text}`)
  const requestId = answer.json().request_id as string
  const statuses = await deliver(gateway, requestId)
  if (statuses[0] !== 200) throw new Error(`fal's delivery answered ${String(statuses[0])}`)
  return requestId
}

t.test('a client\'s receiver verifies the gateway\'s signature with the standardwebhooks package', async t => {
  const gateway = await startWebhookGateway(t, { env: CLIENT_WEBHOOKS })
  const receiver = await startReceiver(t)
  const requestId = await jobWithClientWebhook(gateway, receiver.url)
  await until(() => receiver.received.length === 1, 'the delivery')
  const { headers, body } = receiver.received[0] as Delivery

  // The receiver, as the README will show it:
  const webhook = new Webhook(SECRET)
  const verified = webhook.verify(body, {
    'webhook-id': String(headers['webhook-id']),
    'webhook-timestamp': String(headers['webhook-timestamp']),
    'webhook-signature': String(headers['webhook-signature'])
  }) as { request_id: string, status: string, payload: unknown }
  t.match(verified, { request_id: requestId, status: 'OK', payload: { image: { content_type: 'image/png' } } }, 'fal\'s body, verified')
  t.equal(headers['webhook-id'], `msg_${requestId}`, 'a stable id per job, for the receiver\'s de-duplication')

  const forger = new Webhook(`whsec_${Buffer.from('somebody else entirely, 32 bytes').toString('base64')}`)
  t.throws(() => forger.verify(body, headers as Record<string, string>), 'another secret does not verify')
  t.throws(() => webhook.verify(body.replace('"OK"', '"ERROR"'), headers as Record<string, string>), 'a changed body does not verify')
  t.equal(await counter(gateway, 'fal_gateway_client_webhook_deliveries_total', { result: 'sent' }), 1)

  await nextSecond()
  t.same(await deliver(gateway, requestId), [200], 'fal\'s retry of the same outcome...')
  await new Promise(resolve => setTimeout(resolve, 300))
  t.equal(receiver.received.length, 1, '...is not delivered to the client again')
})

t.test('a receiver down for a while gets every delivery once it is back', async t => {
  const gateway = await startWebhookGateway(t, { env: CLIENT_WEBHOOKS })
  const port = await freePort()
  const url = `http://127.0.0.1:${port}/hook`
  const jobs = [await jobWithClientWebhook(gateway, url), await jobWithClientWebhook(gateway, url), await jobWithClientWebhook(gateway, url)]
  await until(async () => await counter(gateway, 'fal_gateway_client_webhook_deliveries_total', { result: 'failed' }) >= 6, 'failed attempts while it is down')
  const receiver = await startReceiver(t, port)
  await until(() => new Set(receiver.received.map(d => JSON.parse(d.body).request_id)).size === 3, 'every delivery')
  t.same(new Set(receiver.received.map(d => JSON.parse(d.body).request_id)), new Set(jobs))
})

t.test('with Redis, deliveries owed survive a restart of the gateway', async t => {
  const redis = await startRedisServer()
  t.teardown(() => redis.stop())
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 600_000 })
  const emulatorUrl = await emulator.listen()
  t.teardown(() => emulator.close())
  const env = { ...WEBHOOKS_ON, ...CLIENT_WEBHOOKS, REDIS_URL: redis.url }
  const port = await freePort()

  const before = await startGatewayOn(t, emulator, emulatorUrl, env)
  if (before.app.redis !== undefined) await waitForRedis(before.app.redis)
  const requestId = await jobWithClientWebhook(before, `http://127.0.0.1:${port}/hook`)
  await until(async () => await counter(before, 'fal_gateway_client_webhook_deliveries_total', { result: 'failed' }) >= 1, 'a failed attempt')
  await before.app.close()

  const receiver = await startReceiver(t, port)
  const after = await startGatewayOn(t, emulator, emulatorUrl, env)
  await until(() => receiver.received.length >= 1, 'the delivery, by the restarted gateway')
  t.equal(JSON.parse((receiver.received[0] as Delivery).body).request_id, requestId)
  await until(async () => await counter(after, 'fal_gateway_client_webhook_deliveries_total', { result: 'sent' }) === 1, 'sent by the new process')
  t.pass('sent by the new process')
})

t.test('what never made it is on the dead-letter list, and can be replayed', async t => {
  const gateway = await startWebhookGateway(t, { env: { ...CLIENT_WEBHOOKS, WEBHOOK_MAX_ATTEMPTS: '2' } })
  let status = 500
  const receiver = await startReceiver(t, 0, () => status)
  const requestId = await jobWithClientWebhook(gateway, receiver.url)
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
  await until(async () => (await gateway.request('/admin/webhooks/failed', { headers: admin })).json().failed.length === 1, 'a dead letter')
  const { failed } = (await gateway.request('/admin/webhooks/failed', { headers: admin })).json()
  t.match(failed, [{ id: requestId, requestId, url: receiver.url, attempts: 2, lastError: 'HTTP 500' }])
  t.equal(receiver.received.length, 2, 'two attempts, then given up')
  t.equal(await counter(gateway, 'fal_gateway_client_webhooks_dead_lettered_total'), 1)

  t.equal((await gateway.request('/admin/webhooks/failed')).status, 401, 'operators only')
  t.equal((await gateway.request('/admin/webhooks/failed/nope/replay', { method: 'POST', headers: admin })).status, 404)

  status = 200
  const replay = await gateway.request(`/admin/webhooks/failed/${requestId}/replay`, { method: 'POST', headers: admin })
  t.equal(replay.status, 202)
  await until(() => receiver.received.length === 3, 'the replayed delivery')
  t.same((await gateway.request('/admin/webhooks/failed', { headers: admin })).json().failed, [], 'off the list')
})

t.test('a redirect is not followed: it is a failed attempt', async t => {
  const gateway = await startWebhookGateway(t, { env: { ...CLIENT_WEBHOOKS, WEBHOOK_MAX_ATTEMPTS: '1' } })
  const target = await startReceiver(t)
  const redirecting = createServer((_request, response) => { response.writeHead(302, { location: target.url }).end() })
  redirecting.listen(0, '127.0.0.1')
  await once(redirecting, 'listening')
  t.teardown(() => new Promise(resolve => { redirecting.closeAllConnections(); redirecting.close(resolve) }))
  await jobWithClientWebhook(gateway, `http://127.0.0.1:${(redirecting.address() as AddressInfo).port}/hook`)
  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` }
  await until(async () => (await gateway.request('/admin/webhooks/failed', { headers: admin })).json().failed.length === 1, 'a dead letter')
  t.match((await gateway.request('/admin/webhooks/failed', { headers: admin })).json().failed, [{ lastError: 'HTTP 302' }])
  t.equal(target.received.length, 0, 'the redirect target got nothing')
})
