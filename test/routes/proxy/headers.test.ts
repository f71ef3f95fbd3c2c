import t from 'tap'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'
import { buildApp } from '../../../src/app.js'
import { loadConfig } from '../../../src/config.js'
import { FAL_KEY } from '../../helpers/gateway.js'
import { KEYS, writePolicyFile } from '../../plugins/policy-fixture.js'

const REQUEST_ID = '764cabcf-b745-4b3e-ae38-1200304cf45b'
const APP = 'fal-ai/layer-diffusion'

/**
 * A stand-in for fal that records the headers it receives and answers with the headers a
 * careless upstream might send (cookies, hop-by-hop headers), to check what crosses the gateway.
 */
async function startNoisyUpstream (t: Test): Promise<{ url: string, received: IncomingHttpHeaders[] }> {
  const received: IncomingHttpHeaders[] = []
  const server = createServer((request, response) => {
    received.push(request.headers)
    request.resume()
    const submit = request.method === 'POST'
    response.writeHead(submit ? 200 : 202, {
      'content-type': 'application/json',
      'set-cookie': 'session=upstream-secret; Path=/',
      'x-fal-request-id': REQUEST_ID,
      'x-internal-trace': 'upstream-only',
      'keep-alive': 'timeout=5',
      'proxy-authenticate': 'Basic'
    })
    response.end(JSON.stringify({ request_id: REQUEST_ID, status: 'IN_QUEUE', queue_position: 0 }))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => { resolve() })))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

t.test('fal sees only the gateway key, JSON and allowlisted x-fal-* headers; the client sees no cookies', async t => {
  const upstream = await startNoisyUpstream(t)
  const app = await buildApp(loadConfig({
    FAL_KEY,
    FAL_QUEUE_URL: upstream.url,
    FAL_REST_URL: upstream.url,
    CORS_ORIGINS: 'https://app.example.com',
    POLICY_FILE: writePolicyFile(t),
    MAX_EVENT_LOOP_DELAY_MS: '0'
  }), { logger: false })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const gateway = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const clientHeaders = {
    'content-type': 'application/json',
    origin: 'https://app.example.com',
    // A valid gateway client key: it identifies the client and must go no further.
    authorization: `Bearer ${KEYS.alice}`,
    cookie: 'session=browser-secret',
    'x-fal-queue-priority': 'low',
    'x-fal-runner-hint': 'hint-1',
    'x-fal-request-timeout': '30',
    'x-fal-object-lifecycle-preference': '{"expiration_duration_seconds":60}',
    'x-fal-unknown-option': 'dropped',
    'x-forwarded-host': 'evil.example.com',
    'proxy-authorization': 'Basic abc',
    te: 'trailers'
  }
  const submit = await fetch(`${gateway}/api/fal/proxy`, {
    method: 'POST',
    headers: { ...clientHeaders, 'x-fal-target-url': `https://queue.fal.run/${APP}` },
    body: '{}'
  })
  t.equal(submit.status, 200)
  const poll = await fetch(`${gateway}/api/fal/proxy`, {
    headers: { ...clientHeaders, 'x-fal-target-url': `https://queue.fal.run/${APP}/requests/${REQUEST_ID}/status?logs=1` }
  })
  t.equal(poll.status, 202)

  t.equal(upstream.received.length, 2)
  for (const headers of upstream.received) {
    t.equal(headers.authorization, `Key ${FAL_KEY}`, 'fal always sees the gateway\'s key')
    t.notOk(headers.cookie, 'no client cookie')
    t.notOk(JSON.stringify(headers).includes(KEYS.alice), 'the client\'s credential stays at the gateway')
    t.notOk(headers['proxy-authorization'], 'no hop-by-hop credential')
    t.notOk(headers['x-forwarded-host'], 'no forwarding headers')
    t.notOk(headers['x-fal-unknown-option'], 'unknown x-fal-* headers are dropped')
    t.notOk(headers.origin, 'no origin')
  }
  t.match(upstream.received[0], {
    'x-fal-queue-priority': 'low',
    'x-fal-runner-hint': 'hint-1',
    'x-fal-request-timeout': '30',
    'x-fal-object-lifecycle-preference': '{"expiration_duration_seconds":60}'
  }, 'the documented job options reach fal')

  for (const answer of [submit, poll]) {
    t.equal(answer.headers.get('set-cookie'), null, 'no upstream cookie reaches the client')
    t.equal(answer.headers.get('x-internal-trace'), null, 'no other upstream header either')
    t.equal(answer.headers.get('proxy-authenticate'), null)
    t.equal(answer.headers.get('x-fal-request-id'), REQUEST_ID, 'the request id is passed')
    t.match(answer.headers.get('access-control-expose-headers'), /x-fal-request-id/, 'and exposed to the browser')
  }
})
