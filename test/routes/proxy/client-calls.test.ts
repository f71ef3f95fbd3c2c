import t from 'tap'
import { createHash } from 'node:crypto'
import { ApiError, createFalClient, ValidationError, type FalClient } from '@fal-ai/client'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { ILLUSION, LAYER, illusionInput, layerInput } from '../../helpers/fixtures.js'

/**
 * Every call `@fal-ai/client` makes besides the queue's (official-client.test.ts): fal.run,
 * fal.stream, multipart uploads, and realtime, which is refused with a reason.
 */
async function clientThroughGateway (t: Parameters<typeof startGateway>[0], env: Record<string, string> = {}): Promise<{ fal: FalClient, gateway: TestGateway, proxyUrl: string }> {
  const gateway = await startGateway(t, {
    env: { RATE_LIMIT_SUBMIT_MAX: '100', MAX_IN_FLIGHT: '50', ...env },
    emulator: { queueMs: 100, processingMs: 300 }
  })
  const proxyUrl = `${gateway.url}/api/fal/proxy`
  // No retries: a refusal is seen as the gateway gave it.
  const fal = createFalClient({ proxyUrl: { url: proxyUrl, when: 'always' }, retry: { maxRetries: 0 } })
  return { fal, gateway, proxyUrl }
}

/** Waits for something the test caused (a call arriving at the emulator), with a generous bound. */
async function until (condition: () => boolean, what: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; !condition();) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

/** The proxy call the client makes for `target`, sent by hand. */
async function proxied (proxyUrl: string, target: string, body: unknown): Promise<Response> {
  return await fetch(proxyUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-fal-target-url': target },
    body: JSON.stringify(body)
  })
}

t.test('fal.run answers the output through the gateway, with fal called once with the gateway\'s key', async t => {
  const metricsToken = 'metrics-token-for-client-calls-0123'
  const { fal, gateway } = await clientThroughGateway(t, { METRICS_TOKEN: metricsToken })
  const result = await fal.run(ILLUSION, { input: illusionInput })
  t.match(result.data, { image: { url: String, content_type: 'image/png' }, seed: Number })
  t.match(result.requestId, /^[0-9a-f-]{36}$/, 'the request id came back through x-fal-request-id')
  const runs = gateway.emulator.callsOf('run')
  t.equal(runs.length, 1)
  t.equal(runs[0]?.headers.authorization, `Key ${gateway.config.falKey}`)
  t.match(runs[0]?.body, illusionInput, 'fal received the input as sent (with the schema\'s defaults)')
  t.equal(gateway.emulator.callsOf('submit').length, 0, 'nothing went to the queue')
  const metrics = await gateway.request('/metrics', { headers: { authorization: `Bearer ${metricsToken}` } })
  t.match(metrics.text, /fal_gateway_upstream_requests_total\{model="fal-ai\/illusion-diffusion",operation="run",outcome="ok"\} 1/, 'the run is counted as one')
})

t.test('fal.run of invalid input raises ValidationError with field errors, and fal receives nothing', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  const error = await fal.run(ILLUSION, { input: { prompt: 'no pattern' } as never }).then(() => undefined, (caught: unknown) => caught)
  t.ok(error instanceof ValidationError, 'the client raised ValidationError')
  t.match((error as ValidationError).fieldErrors, [{ loc: ['body', 'image_url'], msg: 'field required' }])
  t.equal(gateway.emulator.callsOf('run').length, 0)
})

t.test('fal.run of a model the gateway does not serve is refused before fal', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  const error = await fal.run('fal-ai/flux/dev', { input: { prompt: 'x' } }).then(() => undefined, (caught: unknown) => caught)
  t.ok(error instanceof ApiError)
  t.equal((error as ApiError<unknown>).status, 403)
  t.match((error as ApiError<unknown>).body, { code: 'TARGET_NOT_ALLOWED', message: /not served by this gateway/ })
  t.equal(gateway.emulator.calls.length, 0)
})

t.test('a running fal.run holds a job slot, and gives it back when it answers', async t => {
  const { fal, gateway, proxyUrl } = await clientThroughGateway(t, { MAX_IN_FLIGHT: '1' })
  gateway.emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  const first = fal.run(LAYER, { input: layerInput })
  await until(() => gateway.emulator.jobs.holds.jobs.length === 1, 'the first run to be held')

  const second = await proxied(proxyUrl, `https://fal.run/${LAYER}`, layerInput)
  t.equal(second.status, 429, 'a second run waits for the slot')
  t.match(await second.json(), { code: 'CONCURRENCY_LIMIT' })
  const submit = await proxied(proxyUrl, `https://queue.fal.run/${LAYER}`, layerInput)
  t.equal(submit.status, 429, 'and so does a queue submit: one slot for both')

  gateway.emulator.jobs.release()
  t.match((await first).data, { image: { url: String } })
  const third = await fal.run(LAYER, { input: layerInput })
  t.match(third.data, { image: { url: String } }, 'the slot was given back')
  t.equal(gateway.emulator.callsOf('run').length, 2, 'the refused run never reached fal')
})

t.test('a fal.run that runs past the queue submit deadline still holds its job slot', async t => {
  const submitDeadlineMs = 200
  const { fal, gateway, proxyUrl } = await clientThroughGateway(t, { MAX_IN_FLIGHT: '1', UPSTREAM_TIMEOUT_SUBMIT_MS: String(submitDeadlineMs), UPSTREAM_TIMEOUT_RUN_MS: '120000' })
  gateway.emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  const first = fal.run(LAYER, { input: layerInput })
  await until(() => gateway.emulator.jobs.holds.jobs.length === 1, 'the first run to be held')
  // Past the submit deadline and the 5 s margin a queue submit's unconfirmed slot is kept for.
  await new Promise(resolve => setTimeout(resolve, submitDeadlineMs + 5_000 + 1_000))

  const second = await proxied(proxyUrl, `https://fal.run/${LAYER}`, layerInput)
  t.equal(second.status, 429, 'the run still counts against MAX_IN_FLIGHT')
  t.match(await second.json(), { code: 'CONCURRENCY_LIMIT' })
  gateway.emulator.jobs.release()
  t.match((await first).data, { image: { url: String } }, 'the long run answers')
  t.equal(gateway.emulator.callsOf('run').length, 1, 'the refused run never reached fal')
})

t.test('fal.run draws from the submit budget', async t => {
  const { fal, proxyUrl } = await clientThroughGateway(t, { RATE_LIMIT_SUBMIT_MAX: '1' })
  await fal.run(LAYER, { input: layerInput })
  const refused = await proxied(proxyUrl, `https://fal.run/${LAYER}`, layerInput)
  t.equal(refused.status, 429)
  t.match(await refused.json(), { code: 'RATE_LIMITED', message: /submit/ })
})

t.test('fal.stream passes the partial outputs through as they come, then the output', async t => {
  const { fal, gateway } = await clientThroughGateway(t, { MAX_IN_FLIGHT: '1' })
  gateway.emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  const stream = await fal.stream(ILLUSION, { input: illusionInput })
  const events: Array<Record<string, unknown>> = []
  stream.on('data', (event: Record<string, unknown>) => {
    events.push(event)
    // Every log line is out while the job is held: the events came before the end.
    if (events.length === 7) gateway.emulator.jobs.release()
  })
  const output = await stream.done() as Record<string, unknown>
  t.match(output, { image: { url: String, content_type: 'image/png' }, seed: Number })
  t.match(events.slice(0, 7), Array.from({ length: 7 }, () => ({ progress: Number, message: String })))
  t.equal(events.at(-1), output, 'the last event is the output')
  t.match(stream.requestId, /^[0-9a-f-]{36}$/)
  t.equal(gateway.emulator.callsOf('run-stream').length, 1)

  // The stream's slot is given back when fal's stream closes.
  await until(() => gateway.app.jobs.inFlightHere() === 0, 'the stream\'s job to finish')
  const next = await fal.run(ILLUSION, { input: illusionInput }).catch((error: unknown) => error)
  t.notOk(next instanceof Error, 'a run after the stream gets the slot')
})

t.test('fal.stream of an endpoint that does not stream says so, and gives the slot back', async t => {
  const { fal, gateway } = await clientThroughGateway(t, { MAX_IN_FLIGHT: '1' })
  const stream = await fal.stream(LAYER, { input: layerInput })
  const error = await stream.done().then(() => undefined, (caught: unknown) => caught)
  t.ok(error instanceof ApiError)
  t.equal((error as ApiError<unknown>).status, 404)
  t.match((error as ApiError<unknown>).body, { code: 'UPSTREAM_REJECTED', message: /'fal-ai\/layer-diffusion' does not stream: use fal.subscribe or fal.run/ })
  t.equal(gateway.emulator.callsOf('run-stream').length, 1, 'fal was asked')
  t.match((await fal.run(LAYER, { input: layerInput })).data, { image: { url: String } }, 'the slot was given back')
})

t.test('fal.stream of invalid input is a ValidationError, and fal receives nothing', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  const stream = await fal.stream(ILLUSION, { input: { prompt: 'no pattern' } as never })
  const error = await stream.done().then(() => undefined, (caught: unknown) => caught)
  t.ok(error instanceof ValidationError)
  t.equal(gateway.emulator.callsOf('run-stream').length, 0)
})

t.test('a file over 90 MiB uploads in parts: initiation through the gateway, parts and completion to storage', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  const bytes = Buffer.alloc(90 * 1024 * 1024 + 1234)
  for (let at = 0; at < bytes.length; at += 4096) bytes[at] = (at / 4096) % 251
  const url = await fal.storage.upload(new Blob([bytes], { type: 'application/octet-stream' }))
  t.match(url, /\/files\/uploads\//)
  const stored = Buffer.from(await (await fetch(url)).arrayBuffer())
  t.equal(stored.length, bytes.length, 'every byte arrived')
  t.equal(createHash('sha256').update(stored).digest('hex'), createHash('sha256').update(bytes).digest('hex'), 'in order')
  const initiations = gateway.emulator.callsOf('upload-initiate-multipart')
  t.equal(initiations.length, 1)
  t.equal(initiations[0]?.headers.authorization, `Key ${gateway.config.falKey}`, 'initiated with the gateway\'s key')
  t.equal(gateway.emulator.callsOf('upload-part').length, 10, '10 MiB parts')
  t.equal(gateway.emulator.callsOf('upload-complete').length, 1)
  t.equal(gateway.arrived.filter(line => line.startsWith('POST /api/fal/proxy')).length, 1, 'only the initiation went through the gateway')
})

t.test('multipart initiation draws from the upload budget', async t => {
  const { proxyUrl, gateway } = await clientThroughGateway(t, { RATE_LIMIT_UPLOAD_MAX: '1' })
  const target = 'https://rest.fal.ai/storage/upload/initiate-multipart?storage_type=fal-cdn-v3'
  const first = await proxied(proxyUrl, target, { content_type: 'video/mp4', file_name: 'big.mp4' })
  t.equal(first.status, 200)
  t.match(await first.json(), { upload_url: String, file_url: String })
  const second = await proxied(proxyUrl, target, { content_type: 'video/mp4', file_name: 'big.mp4' })
  t.equal(second.status, 429)
  t.match(await second.json(), { code: 'RATE_LIMITED', message: /upload/ })
  const odd = await proxied(proxyUrl, target, { content_type: 'video/mp4' })
  t.equal(odd.status, 429, 'a refused budget is refused before the body is looked at')
  t.equal(gateway.emulator.callsOf('upload-initiate-multipart').length, 1)
})

t.test('realtime is refused with a 403 that says so, whichever way it is asked for', async t => {
  const { fal, gateway, proxyUrl } = await clientThroughGateway(t)
  const realtimeMessage = /Realtime is not served by this gateway/

  // The token request fal.realtime and client-mode fal.stream make, as the client sends it.
  const token = await proxied(proxyUrl, 'https://rest.fal.ai/tokens/', { allowed_apps: ['illusion-diffusion'], token_expiration: 120 })
  t.equal(token.status, 403)
  t.match(await token.json(), { code: 'TARGET_NOT_ALLOWED', message: realtimeMessage })

  const stream = await fal.stream(ILLUSION, { input: illusionInput, connectionMode: 'client' })
  const error = await stream.done().then(() => undefined, (caught: unknown) => caught)
  t.ok(error instanceof ApiError)
  t.equal((error as ApiError<unknown>).status, 403)
  t.match((error as ApiError<unknown>).message, realtimeMessage, 'the client shows the reason')

  const socket = await proxied(proxyUrl, `wss://fal.run/${ILLUSION}/realtime`, {})
  t.equal(socket.status, 403)
  t.match(await socket.json(), { message: realtimeMessage })
  t.equal(gateway.emulator.calls.length, 0, 'fal saw none of it')
})
