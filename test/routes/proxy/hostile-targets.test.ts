import t from 'tap'
import { startGateway } from '../../helpers/gateway.js'

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b'
const Q = 'https://queue.fal.run'

/** Each is refused with 403 TARGET_NOT_ALLOWED before anything reaches fal. */
const HOSTILE: Array<[string, string, string | undefined]> = [
  ['another model', 'POST', `${Q}/fal-ai/flux/dev`],
  ['another model\'s status', 'GET', `${Q}/fal-ai/flux/requests/${ID}/status`],
  ['a fal.run call to another model', 'POST', 'https://fal.run/fal-ai/flux/dev'],
  ['a fal.stream call to another model', 'POST', 'https://fal.run/fal-ai/flux/dev/stream'],
  ['a GET fal.run with the input in the query', 'GET', 'https://fal.run/fal-ai/illusion-diffusion?prompt=x'],
  ['a fal.run call with a query', 'POST', 'https://fal.run/fal-ai/illusion-diffusion?fal_webhook=https://a.example.com'],
  ['a subdomain of the run host', 'POST', 'https://x.fal.run/fal-ai/illusion-diffusion'],
  ['realtime tokens', 'POST', 'https://rest.fal.ai/tokens/'],
  ['a realtime websocket', 'GET', 'wss://fal.run/fal-ai/illusion-diffusion/realtime'],
  ['a realtime path on the run host', 'POST', 'https://fal.run/fal-ai/illusion-diffusion/realtime'],
  ['storage multipart with an extra query', 'POST', 'https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3&x=1'],
  ['storage multipart as GET', 'GET', 'https://rest.fal.ai/storage/upload/initiate-multipart'],
  ['another host', 'POST', 'https://evil.example.com/fal-ai/illusion-diffusion'],
  ['a look-alike host (suffix)', 'POST', 'https://queue.fal.run.evil.com/fal-ai/illusion-diffusion'],
  ['a look-alike host (prefix)', 'POST', 'https://evilqueue.fal.run/fal-ai/illusion-diffusion'],
  ['a subdomain of the queue host', 'POST', 'https://x.queue.fal.run/fal-ai/illusion-diffusion'],
  ['plain http', 'POST', 'http://queue.fal.run/fal-ai/illusion-diffusion'],
  ['user-info before the host', 'POST', 'https://queue.fal.run@evil.com/fal-ai/illusion-diffusion'],
  ['user-info on the real host', 'POST', 'https://user:pass@queue.fal.run/fal-ai/illusion-diffusion'],
  ['an explicit port', 'POST', 'https://queue.fal.run:8443/fal-ai/illusion-diffusion'],
  ['the default port spelled out', 'POST', 'https://queue.fal.run:443/fal-ai/illusion-diffusion'],
  ['dot segments into another model', 'POST', `${Q}/fal-ai/illusion-diffusion/../flux/dev`],
  ['encoded dot segments', 'POST', `${Q}/fal-ai/illusion-diffusion/%2e%2e/flux`],
  ['an encoded slash', 'GET', `${Q}/fal-ai%2fillusion-diffusion/requests/${ID}/status`],
  ['a backslash', 'POST', `${Q}/fal-ai\\illusion-diffusion`],
  ['a double slash', 'POST', `${Q}//fal-ai/illusion-diffusion`],
  ['upper-case host', 'POST', 'https://QUEUE.FAL.RUN/fal-ai/illusion-diffusion'],
  ['a fragment', 'POST', `${Q}/fal-ai/illusion-diffusion#x`],
  ['a non-UUID request id', 'GET', `${Q}/fal-ai/illusion-diffusion/requests/../../flux/status`],
  ['an unknown action', 'GET', `${Q}/fal-ai/illusion-diffusion/requests/${ID}/logs`],
  ['the wrong method for status', 'POST', `${Q}/fal-ai/illusion-diffusion/requests/${ID}/status`],
  ['the wrong method for cancel', 'GET', `${Q}/fal-ai/illusion-diffusion/requests/${ID}/cancel`],
  ['an extra query parameter on submit', 'POST', `${Q}/fal-ai/illusion-diffusion?fal_webhook=https://a.example.com&x=1`],
  ['a query parameter on result', 'GET', `${Q}/fal-ai/illusion-diffusion/requests/${ID}?redirect=1`],
  ['a relative URL', 'POST', '/fal-ai/illusion-diffusion'],
  ['not a URL', 'POST', 'queue.fal.run/fal-ai/illusion-diffusion'],
  ['a javascript: URL', 'POST', 'javascript:alert(1)'],
  ['a data: URL', 'POST', 'data:text/plain,hello'],
  ['a file: URL', 'GET', 'file:///etc/passwd'],
  ['IPv4 literal host', 'POST', 'https://127.0.0.1/fal-ai/illusion-diffusion'],
  ['a trailing dot host', 'POST', 'https://queue.fal.run./fal-ai/illusion-diffusion'],
  ['an empty header', 'POST', ''],
  ['a missing header', 'POST', undefined]
]

t.test(`${HOSTILE.length} hostile x-fal-target-url values are refused and reach nothing`, async t => {
  const gateway = await startGateway(t, { env: { RATE_LIMIT_SUBMIT_MAX: '1000', RATE_LIMIT_POLL_MAX: '1000' } })
  t.ok(HOSTILE.length >= 25)
  for (const [name, method, target] of HOSTILE) {
    const headers: Record<string, string> = { 'content-type': 'application/json' }
    if (target !== undefined) headers['x-fal-target-url'] = target
    const answer = await gateway.request('/api/fal/proxy', {
      method,
      headers,
      body: method === 'GET' ? undefined : JSON.stringify({ image_url: 'https://example.com/p.png', prompt: 'p' })
    })
    t.equal(answer.status, 403, `${name}: 403`)
    t.match(answer.json(), { statusCode: 403, code: 'TARGET_NOT_ALLOWED', message: String }, `${name}: typed error`)
  }
  t.same(gateway.emulator.calls, [], 'the emulator received nothing')
})

t.test('a proxied submit with a webhook obeys the webhook allowlist', async t => {
  // An allowed hook on a closed loopback port: the emulator's delivery fails at once, locally.
  const gateway = await startGateway(t, { env: { WEBHOOK_HOSTS: 'localhost' } })
  const submit = (webhook: string) => gateway.request('/api/fal/proxy', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-fal-target-url': `${Q}/fal-ai/layer-diffusion?fal_webhook=${encodeURIComponent(webhook)}` },
    body: '{}'
  })
  const refused = await submit('https://evil.example.com/hook')
  t.equal(refused.status, 400)
  t.equal(refused.json().code, 'WEBHOOK_NOT_ALLOWED')
  t.equal(gateway.emulator.callsOf('submit').length, 0)
  const accepted = await submit('https://localhost:9/fal')
  t.equal(accepted.status, 200)
  t.equal(gateway.emulator.callsOf('submit').length, 1)
})
