import t from 'tap'
import { FAL_KEY, json } from './helpers/gateway.js'
import { ILLUSION, LAYER, illusionInput, submit, startQueueGateway } from './routes/queue/queue-client.js'

type LogLine = Record<string, unknown> & { reqId?: string, msg?: string }

const parse = (lines: string[]): LogLine[] => lines.map(line => JSON.parse(line) as LogLine)

t.test('every log line of a request carries its reqId; a valid x-request-id is echoed and used', async t => {
  const gateway = await startQueueGateway(t)
  const traced = await gateway.request(`/queue/${ILLUSION}`, {
    ...json(illusionInput),
    headers: { 'content-type': 'application/json', 'x-request-id': 'trace-abc.123' }
  })
  t.equal(traced.status, 202)
  t.equal(traced.headers.get('x-request-id'), 'trace-abc.123', 'the incoming id is echoed')

  const untraced = await gateway.request(`/queue/${ILLUSION}/requests/not-a-uuid`)
  const generated = untraced.headers.get('x-request-id') ?? ''
  t.match(generated, /^[0-9a-f-]{36}$/, 'without one, the gateway makes one up and answers it')

  const spoofed = await gateway.request('/healthz', { headers: { 'x-request-id': 'two words\u00e9' + 'x'.repeat(200) } })
  t.not(spoofed.headers.get('x-request-id'), 'two words', 'an invalid incoming id is replaced')

  const lines = parse(gateway.logs)
  const requestLines = lines.filter(line => 'req' in line || 'res' in line || 'falRequestId' in line || 'err' in line)
  t.ok(requestLines.length >= 4, 'requests were logged')
  t.same(requestLines.filter(line => typeof line.reqId !== 'string'), [], 'every request log line has a reqId')
  const tracedLines = lines.filter(line => line.reqId === 'trace-abc.123')
  t.ok(tracedLines.some(line => line.msg === 'incoming request') && tracedLines.some(line => line.msg === 'request completed'),
    'the incoming id is the reqId of that request\'s lines')
  t.ok(lines.some(line => line.reqId === generated), 'the generated id is the one logged')

  const submitLine = tracedLines.find(line => 'falRequestId' in line)
  t.equal(submitLine?.falRequestId, traced.json().request_id, 'the submit line carries fal\'s request id')
})

t.test("a client's authorization and cookies leave no trace in logs and never reach fal", async t => {
  const gateway = await startQueueGateway(t)
  const cookie = 'session=cookie-secret-55f0; theme=dark'
  const withKey = { 'content-type': 'application/json', authorization: 'Key client-credential-7d1e:client-secret-93ab', cookie }
  const refused = await gateway.request(`/queue/${LAYER}`, { method: 'POST', headers: withKey, body: JSON.stringify({ prompt: 'a lamp' }) })
  t.equal(refused.status, 401, 'an unknown client key is refused')
  await gateway.request(`/queue/${LAYER}/requests/not-a-uuid`, { headers: withKey })

  const accepted = await gateway.request(`/queue/${LAYER}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie, 'x-fal-queue-priority': 'low', connection: 'keep-alive' },
    body: JSON.stringify({ prompt: 'a lamp' })
  })
  t.equal(accepted.status, 202)
  const traces = ['client-credential-7d1e', 'client-secret-93ab', 'cookie-secret-55f0']
  t.same(gateway.logs.filter(line => traces.some(trace => line.includes(trace))), [], 'no log line holds them')
  const [call] = gateway.emulator.callsOf('submit')
  t.equal(call?.headers.authorization, `Key ${FAL_KEY}`, "fal sees the gateway's key")
  t.equal(call?.headers.cookie, undefined, 'fal sees no cookie')
  t.equal(call?.headers['x-fal-queue-priority'], 'low', 'the client\'s x-fal-queue-priority is passed on')
})

t.test('/healthz and /readyz answer 200', async t => {
  const gateway = await startQueueGateway(t)
  const health = await gateway.request('/healthz')
  t.equal(health.status, 200)
  t.same(health.json(), { status: 'ok' })
  const ready = await gateway.request('/readyz')
  t.equal(ready.status, 200)
  t.same(gateway.emulator.calls, [], 'probes do not call fal')
})

t.test('/openapi.json documents both models\' queue routes and their input fields; /docs serves HTML', async t => {
  const gateway = await startQueueGateway(t)
  const answer = await gateway.request('/openapi.json')
  t.equal(answer.status, 200)
  const doc = answer.json()
  t.equal(doc.openapi, '3.1.0')
  const inputs: Record<string, string[]> = {
    [ILLUSION]: ['image_url', 'prompt', 'negative_prompt', 'guidance_scale', 'scheduler', 'num_inference_steps', 'image_size', 'seed'],
    [LAYER]: ['prompt', 'negative_prompt', 'guidance_scale', 'num_inference_steps', 'seed', 'enable_safety_checker']
  }
  for (const [appId, fields] of Object.entries(inputs)) {
    const base = `/queue/${appId}`
    t.ok(doc.paths[base]?.post, `${appId}: submit`)
    t.ok(doc.paths[`${base}/requests/{requestId}/status`]?.get, `${appId}: status`)
    t.ok(doc.paths[`${base}/requests/{requestId}`]?.get, `${appId}: result`)
    t.ok(doc.paths[`${base}/requests/{requestId}/cancel`]?.put, `${appId}: cancel`)
    const schema = doc.paths[base]?.post?.requestBody?.content?.['application/json']?.schema
    t.same(Object.keys(schema?.properties ?? {}).sort(), [...fields, ...(appId === ILLUSION ? ['control_guidance_start', 'control_guidance_end', 'controlnet_conditioning_scale'] : [])].sort(),
      `${appId}: the input schema lists the model page's fields`)
    const result = doc.paths[`${base}/requests/{requestId}`]?.get?.responses?.['200']?.content?.['application/json']?.schema
    t.match(result?.properties, { image: Object, seed: Object }, `${appId}: the result schema has image and seed`)
  }
  t.notOk(JSON.stringify(doc).includes(gateway.emulatorUrl), 'the document does not name the upstream')

  const docs = await fetch(`${gateway.url}/docs`)
  t.equal(docs.status, 200)
  t.match(docs.headers.get('content-type'), /text\/html/)
  t.match(await docs.text(), /<html/i)
})

t.test('a submit through a second model works in the same app', async t => {
  const gateway = await startQueueGateway(t)
  t.equal((await submit(gateway, LAYER, {})).status, 202)
})
