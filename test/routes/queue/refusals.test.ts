import t from 'tap'
import { json } from '../../helpers/gateway.js'
import { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, illusionInput, submit, startQueueGateway } from './queue-client.js'

t.test('an app id outside the registry is refused on every route, and fal is not called', async t => {
  const gateway = await startQueueGateway(t)
  const base = '/queue/fal-ai/flux-pro'
  const answers = [
    await gateway.request(base, json({ prompt: 'a cat' })),
    await gateway.request(`${base}/v1.1`, json({ prompt: 'a cat' })),
    await gateway.request(`${base}/requests/${UNKNOWN_REQUEST_ID}/status`),
    await gateway.request(`${base}/requests/${UNKNOWN_REQUEST_ID}`),
    await gateway.request(`${base}/requests/${UNKNOWN_REQUEST_ID}/cancel`, { method: 'PUT' })
  ]
  for (const answer of answers) {
    t.equal(answer.status, 404)
    t.match(answer.json(), { statusCode: 404, code: 'MODEL_NOT_FOUND', message: /fal-ai\/flux-pro/ })
  }
  t.same(gateway.emulator.calls, [], 'the emulator received nothing')
})

t.test('a request id that is not a UUID answers 422 on the path, before any call to fal', async t => {
  const gateway = await startQueueGateway(t)
  const requests = ['not-a-uuid', '..%2F..%2Fsecrets', `${UNKNOWN_REQUEST_ID}x`]
  for (const id of requests) {
    for (const [path, init] of [
      [`/queue/${ILLUSION}/requests/${id}/status`, undefined],
      [`/queue/${LAYER}/requests/${id}`, undefined],
      [`/queue/${ILLUSION}/requests/${id}/cancel`, { method: 'PUT' }]
    ] as const) {
      const answer = await gateway.request(path, init)
      t.equal(answer.status, 422, `${path}: 422`)
      t.match(answer.json(), { code: 'VALIDATION_FAILED', detail: [{ loc: ['path', 'requestId'] }] }, `${path}: detail names the request id`)
    }
  }
  t.same(gateway.emulator.calls, [], 'the emulator received nothing')
})

t.test('a well-formed request id fal does not know answers 404 REQUEST_NOT_FOUND', async t => {
  const gateway = await startQueueGateway(t)
  for (const path of [`/queue/${ILLUSION}/requests/${UNKNOWN_REQUEST_ID}/status`, `/queue/${ILLUSION}/requests/${UNKNOWN_REQUEST_ID}`]) {
    const answer = await gateway.request(path)
    t.equal(answer.status, 404, path)
    t.match(answer.json(), { statusCode: 404, code: 'REQUEST_NOT_FOUND' })
  }
})

t.test('a request id of one model is not found under the other', async t => {
  const gateway = await startQueueGateway(t)
  const { request_id: id } = (await submit(gateway, ILLUSION, illusionInput)).json()
  const answer = await gateway.request(`/queue/${LAYER}/requests/${id}/status`)
  t.equal(answer.status, 404)
  t.match(answer.json(), { code: 'REQUEST_NOT_FOUND' })
})

t.test('a body over BODY_LIMIT answers 413 in JSON, and fal receives nothing', async t => {
  const gateway = await startQueueGateway(t, { env: { BODY_LIMIT: '2048' } })
  const big = { ...illusionInput, prompt: 'x'.repeat(4096) }
  const answer = await submit(gateway, ILLUSION, big)
  t.equal(answer.status, 413)
  t.match(answer.headers.get('content-type'), /application\/json/)
  t.match(answer.json(), { statusCode: 413, code: 'BODY_TOO_LARGE', message: /2048/ })
  t.equal(gateway.emulator.callsOf('submit').length, 0)
  t.equal((await submit(gateway, ILLUSION, illusionInput)).status, 202, 'a body under the limit still passes')
})

t.test('a body that is not JSON is refused before fal sees it', async t => {
  const gateway = await startQueueGateway(t)
  const invalid = await gateway.request(`/queue/${ILLUSION}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt": "a village",'
  })
  t.equal(invalid.status, 400, 'invalid JSON: 400')
  t.match(invalid.json(), { statusCode: 400, code: 'INVALID_JSON' })

  const text = await gateway.request(`/queue/${ILLUSION}`, {
    method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify(illusionInput)
  })
  t.equal(text.status, 415, 'text/plain: 415')
  t.match(text.json(), { statusCode: 415, code: 'UNSUPPORTED_MEDIA_TYPE' })

  const form = await gateway.request(`/queue/${ILLUSION}`, {
    method: 'POST', body: new URLSearchParams({ prompt: 'a village' })
  })
  t.equal(form.status, 415, 'a form body: 415')

  const empty = await gateway.request(`/queue/${ILLUSION}`, { method: 'POST', headers: { 'content-type': 'application/json' } })
  t.equal(empty.status, 422, 'an empty submit is a missing body')
  t.match(empty.json(), { code: 'VALIDATION_FAILED' })
  t.equal(gateway.emulator.callsOf('submit').length, 0, 'the emulator received no submit')
})
