import t from 'tap'
import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { once } from 'node:events'
import type { Test } from 'tap'
import { startEmulator, KEY } from './start.js'

interface Received {
  headers: IncomingMessage['headers']
  body: Buffer
}

/** A plain receiver on port 0 that records every delivery and answers with the next status of `statuses`. */
async function startReceiver (t: Test, statuses: number[] = []): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', chunk => chunks.push(chunk as Buffer))
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) })
      response.writeHead(statuses.shift() ?? 200).end()
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received }
}

/** fal's verification, written out from its documentation with node:crypto. */
function verifiesWith (keys: JsonWebKey[], delivery: Received): boolean {
  const header = (name: string): string => String(delivery.headers[name])
  const message = [
    header('x-fal-webhook-request-id'),
    header('x-fal-webhook-user-id'),
    header('x-fal-webhook-timestamp'),
    createHash('sha256').update(delivery.body).digest('hex')
  ].join('\n')
  const signature = Buffer.from(header('x-fal-webhook-signature'), 'hex')
  return keys.some(jwk => verify(null, Buffer.from(message), createPublicKey({ key: jwk, format: 'jwk' }), signature))
}

async function until (condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

async function submit (baseUrl: string, hook: string): Promise<string> {
  const response = await fetch(`${baseUrl}/fal-ai/layer-diffusion?fal_webhook=${encodeURIComponent(hook)}`, {
    method: 'POST',
    headers: { authorization: `Key ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'a glass bottle' })
  })
  return ((await response.json()) as { request_id: string }).request_id
}

const jwksOf = async (baseUrl: string): Promise<JsonWebKey[]> =>
  ((await (await fetch(`${baseUrl}/.well-known/jwks.json`)).json()) as { keys: JsonWebKey[] }).keys

t.test('a completed job is delivered in fal\'s shape, signed with a key of the published JWKS', async t => {
  const { baseUrl } = await startEmulator(t, { queueMs: 20, processingMs: 30 })
  const receiver = await startReceiver(t)
  const requestId = await submit(baseUrl, receiver.url)
  await until(() => receiver.received.length === 1, 'the delivery')
  const delivery = receiver.received[0] as Received
  const body = JSON.parse(delivery.body.toString())
  t.match(body, { request_id: requestId, gateway_request_id: requestId, status: 'OK', payload: { image: { content_type: 'image/png' } } })
  t.equal(delivery.headers['x-fal-webhook-request-id'], requestId)
  t.equal(delivery.headers['x-fal-webhook-user-id'], 'emulator-user')
  t.ok(Math.abs(Number(delivery.headers['x-fal-webhook-timestamp']) - Date.now() / 1000) < 60, 'timestamp in epoch seconds, now')
  t.match(delivery.headers['x-fal-webhook-signature'], /^[0-9a-f]{128}$/, '64-byte signature in hex')
  const keys = await jwksOf(baseUrl)
  t.match(keys, [{ kty: 'OKP', crv: 'Ed25519' }])
  t.ok(verifiesWith(keys, delivery), 'the signature verifies against the JWKS')
  t.notOk(verifiesWith(keys, { ...delivery, body: Buffer.from(delivery.body.toString().replace('OK', 'ERROR')) }), 'and not over another body')
})

t.test('a delivery the receiver refuses is retried along the schedule, re-signed each time', async t => {
  const { baseUrl, emulator } = await startEmulator(t, { queueMs: 10, processingMs: 10, webhookRetryDelaysMs: [20, 20, 20] })
  const receiver = await startReceiver(t, [500, 503, 200])
  await submit(baseUrl, receiver.url)
  await until(() => receiver.received.length === 3, 'three tries')
  const keys = await jwksOf(baseUrl)
  t.ok(receiver.received.every(delivery => verifiesWith(keys, delivery)), 'every try is signed')
  t.same(emulator.webhooks.deliveries.map(d => [d.attempt, d.status]), [[1, 500], [2, 503], [3, 200]])
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(receiver.received.length, 3, 'no try after the 2xx')
})

t.test('the schedule ends after its last retry', async t => {
  const { baseUrl, emulator } = await startEmulator(t, { queueMs: 10, processingMs: 10, webhookRetryDelaysMs: [10, 10] })
  const receiver = await startReceiver(t, [500, 500, 500, 500, 500])
  await submit(baseUrl, receiver.url)
  await until(() => emulator.webhooks.deliveries.length === 3, 'three tries')
  await new Promise(resolve => setTimeout(resolve, 100))
  t.equal(receiver.received.length, 3, '1 try + 2 retries, then it gives up')
})

t.test('the tamper switch sends what a verifier must refuse', async t => {
  const { baseUrl, emulator } = await startEmulator(t, { queueMs: 60_000 })
  const receiver = await startReceiver(t)
  const requestId = await submit(baseUrl, 'http://127.0.0.1:9/unused')
  const send = async (kind: string, extra: object = {}): Promise<{ statuses: number[] }> => {
    const response = await fetch(`${baseUrl}/_emulator/webhooks/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ request_id: requestId, url: receiver.url, kind, ...extra })
    })
    return await response.json() as { statuses: number[] }
  }
  const keys = await jwksOf(baseUrl)
  const last = (): Received => receiver.received[receiver.received.length - 1] as Received

  await send('genuine')
  t.ok(verifiesWith(keys, last()), 'genuine verifies')
  await send('forged')
  t.notOk(verifiesWith(keys, last()), 'forged does not')
  await send('tampered')
  t.notOk(verifiesWith(keys, last()), 'tampered does not')
  await send('unsigned')
  t.equal(last().headers['x-fal-webhook-signature'], undefined, 'unsigned has no signature')
  await send('stale')
  t.ok(verifiesWith(keys, last()), 'stale verifies...')
  t.ok(Date.now() / 1000 - Number(last().headers['x-fal-webhook-timestamp']) > 300, '...but is older than 300 s')
  t.same((await send('duplicate')).statuses, [200, 200])
  const [first, second] = receiver.received.slice(-2) as [Received, Received]
  t.same([first.headers['x-fal-webhook-timestamp'], first.headers['x-fal-webhook-signature'], first.body], [second.headers['x-fal-webhook-timestamp'], second.headers['x-fal-webhook-signature'], second.body], 'a duplicate is the same bytes twice')
  await send('oversized', { bytes: 3 * 1024 * 1024 })
  t.ok(last().body.length > 3 * 1024 * 1024, 'oversized is large')
  t.ok(verifiesWith(keys, last()), 'and correctly signed')

  // The switch applies to the next scheduled attempts, then genuine deliveries resume.
  await fetch(`${baseUrl}/_emulator/webhooks/tamper`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'forged', count: 1 }) })
  emulator.webhooks.post(receiver.url, { request_id: requestId, gateway_request_id: requestId, status: 'OK', payload: {} })
  emulator.webhooks.post(receiver.url, { request_id: requestId, gateway_request_id: requestId, status: 'OK', payload: {} })
  await until(() => emulator.webhooks.deliveries.length === 10, 'two more deliveries')
  t.same(emulator.webhooks.deliveries.slice(-2).map(d => d.kind).sort(), ['forged', 'genuine'])
})

t.test('rotation publishes a new signing key; the JWKS can be taken down', async t => {
  const { baseUrl, emulator } = await startEmulator(t, { queueMs: 60_000 })
  const before = await jwksOf(baseUrl)
  await fetch(`${baseUrl}/_emulator/webhooks/rotate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
  const after = await jwksOf(baseUrl)
  t.equal(after.length, 2, 'old and new key published')
  t.ok(after.some(key => key.x === before[0]?.x), 'the old key stays until retired')
  emulator.webhooks.keys.rotate(true)
  const retired = await jwksOf(baseUrl)
  t.equal(retired.length, 1)
  t.notOk(after.some(key => key.x === retired[0]?.x), 'a fresh key')

  await fetch(`${baseUrl}/_emulator/webhooks/jwks`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ available: false }) })
  t.equal((await fetch(`${baseUrl}/.well-known/jwks.json`)).status, 503)
  emulator.webhooks.jwksAvailable = true
  t.equal((await fetch(`${baseUrl}/.well-known/jwks.json`)).status, 200)
})
