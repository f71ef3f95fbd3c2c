import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ApiError, ValidationError, createFalClient, type QueueStatus } from '@fal-ai/client'
import { PNG, type PNGWithMetadata } from 'pngjs'
import t from 'tap'
import { falHostFetch } from '../helpers/fal-host-fetch.js'
import { KEY, startEmulator } from './start.js'

// Typed as plain strings so invalid inputs reach the emulator instead of failing to compile.
const ILLUSION: string = 'fal-ai/illusion-diffusion'
const LAYER: string = 'fal-ai/layer-diffusion'
const illusionInput = { image_url: 'https://example.com/pattern.png', prompt: 'a medieval village' }

interface ImageOutput {
  image: { url: string, content_type: string, file_name: string, file_size: number, width: number, height: number }
  seed: number
}

async function decodePng (url: string): Promise<{ png: PNGWithMetadata, bytes: number, contentType: string | null }> {
  const response = await fetch(url)
  const bytes = Buffer.from(await response.arrayBuffer())
  return { png: PNG.sync.read(bytes), bytes: bytes.length, contentType: response.headers.get('content-type') }
}

t.test('subscribe (polling) to Illusion Diffusion: queue updates, logs, then an opaque PNG of the asked size', async t => {
  const { emulator, fal } = await startEmulator(t)
  // Each phase lasts until the client has seen it.
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  const updates: QueueStatus[] = []
  const result = await fal.subscribe(ILLUSION, {
    input: { ...illusionInput, image_size: 'landscape_16_9', seed: 7 },
    logs: true,
    pollInterval: 20,
    onQueueUpdate: update => {
      updates.push(update)
      if (update.status !== 'COMPLETED') emulator.jobs.release({ phase: update.status })
    }
  })
  const states = updates.map(update => update.status)
  t.ok(states.includes('IN_QUEUE') && states.includes('IN_PROGRESS'), 'saw the request queued, then running')
  t.equal(states.at(-1), 'COMPLETED')
  const queued = updates.filter(update => update.status === 'IN_QUEUE')
  t.ok(queued.every(update => 'queue_position' in update && typeof update.queue_position === 'number'), 'queued updates carry a position')
  const last = updates.at(-1)
  t.ok(last !== undefined && 'logs' in last && last.logs.length > 3, 'the completed status carries the log lines')
  t.match(last, { metrics: { inference_time: Number } })

  const data = result.data as ImageOutput
  t.equal(result.requestId, last?.request_id, 'result().requestId comes from x-fal-request-id')
  t.equal(data.seed, 7, 'the seed asked for is the seed reported')
  t.match(data.image, { content_type: 'image/png', width: 1024, height: 576 })

  const { png, bytes, contentType } = await decodePng(data.image.url)
  t.equal(contentType, 'image/png')
  t.equal(bytes, data.image.file_size, 'file_size is the real byte count')
  t.equal(png.width, 1024)
  t.equal(png.height, 576)
  t.equal(png.alpha, false, 'Illusion Diffusion answers an RGB image')
})

t.test('subscribe (streaming) to Layer Diffusion: each log line arrives once; the PNG has real transparency', async t => {
  const { fal } = await startEmulator(t)
  const updates: QueueStatus[] = []
  const result = await fal.subscribe(LAYER, {
    input: { prompt: 'a glass bottle' },
    logs: true,
    mode: 'streaming',
    onQueueUpdate: update => { updates.push(update) }
  })
  const last = updates.at(-1)
  t.equal(last?.status, 'COMPLETED')
  const messages = last !== undefined && 'logs' in last ? last.logs.map(log => log.message) : []
  t.equal(messages.length, 7, 'the accumulated logs hold every line exactly once')
  t.equal(new Set(messages).size, messages.length)

  const data = result.data as ImageOutput
  t.match(data.image, { width: 1024, height: 1024, content_type: 'image/png' })
  t.type(data.seed, 'number')
  const { png } = await decodePng(data.image.url)
  t.equal(png.width, 1024)
  t.equal(png.height, 1024)
  let transparent = 0
  let opaque = 0
  for (let i = 3; i < png.data.length; i += 4) {
    if (png.data[i] === 0) transparent++
    else if (png.data[i] === 255) opaque++
  }
  t.ok(transparent > 100_000, 'a transparent background')
  t.ok(opaque > 100_000, 'an opaque subject')
})

t.test('queue.submit, status, result and cancel, one step at a time', async t => {
  // No time of their own: each phase lasts exactly until the test releases the job from it.
  const { emulator, fal, baseUrl } = await startEmulator(t, { queueMs: 0, processingMs: 0 })
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  const submitted = await fal.queue.submit(ILLUSION, { input: illusionInput })
  t.match(submitted, {
    request_id: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    status: 'IN_QUEUE',
    queue_position: 0,
    response_url: `${baseUrl}/${ILLUSION}/requests/${submitted.request_id}`,
    status_url: `${baseUrl}/${ILLUSION}/requests/${submitted.request_id}/status`,
    cancel_url: `${baseUrl}/${ILLUSION}/requests/${submitted.request_id}/cancel`
  })
  const requestId = submitted.request_id

  t.match(await fal.queue.status(ILLUSION, { requestId, logs: true }), { status: 'IN_QUEUE', queue_position: Number })
  await t.rejects(fal.queue.result(ILLUSION, { requestId }), { name: 'ApiError', status: 400, body: { detail: 'Request is still in progress' } })

  emulator.jobs.release({ phase: 'IN_QUEUE', requestId })
  const running = await fal.queue.status(ILLUSION, { requestId, logs: true })
  t.equal(running.status, 'IN_PROGRESS')
  t.ok('logs' in running && running.logs.length >= 1, 'with its log lines so far')
  t.match('logs' in running ? running.logs[0] : undefined, { message: String, level: 'INFO', source: 'USER', timestamp: String })
  const quiet = await fal.queue.status(ILLUSION, { requestId, logs: false })
  t.same('logs' in quiet ? quiet.logs : undefined, [], 'logs=0 leaves the lines out')

  emulator.jobs.release({ phase: 'IN_PROGRESS', requestId })
  let status = await fal.queue.status(ILLUSION, { requestId })
  for (const deadline = Date.now() + 20_000; status.status !== 'COMPLETED' && Date.now() < deadline; await new Promise(resolve => setTimeout(resolve, 20))) {
    status = await fal.queue.status(ILLUSION, { requestId })
  }
  t.match(status, { status: 'COMPLETED' })
  t.match((await fal.queue.result(ILLUSION, { requestId })).data, { image: { width: 1024, height: 1024 } })
  await t.rejects(fal.queue.cancel(ILLUSION, { requestId }), { name: 'ApiError', status: 400, body: { status: 'ALREADY_COMPLETED' } })

  // Still held in the queue, like every new job here, so surely not completed yet.
  const other = await fal.queue.submit(LAYER, { input: {} })
  await fal.queue.cancel(LAYER, { requestId: other.request_id })
  t.match(await fal.queue.status(LAYER, { requestId: other.request_id }), { status: 'COMPLETED', error: String },
    'a cancelled request stays finished, with an error')
  await t.rejects(fal.queue.result(LAYER, { requestId: other.request_id }), { name: 'ApiError', status: 400 })

  const unknown = '00000000-0000-4000-8000-000000000000'
  await t.rejects(fal.queue.status(ILLUSION, { requestId: unknown }), { name: 'ApiError', status: 404, body: { detail: 'Request not found' } })
  await t.rejects(fal.queue.cancel(ILLUSION, { requestId: unknown }), { name: 'ApiError', status: 404, body: { status: 'NOT_FOUND' } })
  await t.rejects(fal.queue.status(LAYER, { requestId }), { name: 'ApiError', status: 404 }, 'a request id only exists under its own app')
})

t.test('cancel answers 202 CANCELLATION_REQUESTED with an empty JSON-typed body', async t => {
  const { emulator, fal, baseUrl } = await startEmulator(t)
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const { request_id: requestId } = await fal.queue.submit(LAYER, { input: {} })
  const response = await fetch(`${baseUrl}/${LAYER}/requests/${requestId}/cancel`, {
    method: 'PUT',
    headers: { authorization: `Key ${KEY}`, 'content-type': 'application/json' }
  })
  t.equal(response.status, 202)
  t.same(await response.json(), { status: 'CANCELLATION_REQUESTED' })
})

t.test('streamStatus sends server-sent events until COMPLETED, then closes', async t => {
  const { emulator, fal } = await startEmulator(t, { queueMs: 600 })
  // The job waits at the head of the queue, then in progress, until the stream has shown each.
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  const { request_id: requestId } = await fal.queue.submit(ILLUSION, { input: illusionInput })
  const stream = await fal.queue.streamStatus(ILLUSION, { requestId, logs: true })
  const events: QueueStatus[] = []
  stream.on('data', (event: QueueStatus) => {
    events.push(event)
    if (event.status === 'IN_QUEUE' && event.queue_position === 0) emulator.jobs.release({ phase: 'IN_QUEUE' })
    if (event.status === 'IN_PROGRESS') emulator.jobs.release({ phase: 'IN_PROGRESS' })
  })
  const done = await stream.done()
  t.equal(done.status, 'COMPLETED')
  t.same([...new Set(events.map(event => event.status))], ['IN_QUEUE', 'IN_PROGRESS', 'COMPLETED'])
  // One event per change: how many positions the stream shows depends on when it connected.
  const positions = events.filter(e => e.status === 'IN_QUEUE').map(e => 'queue_position' in e ? e.queue_position : -1)
  t.ok(positions.every((position, i) => i === 0 || position < (positions[i - 1] ?? 0)), `the queue position counts down (${positions.join(', ')})`)
  t.equal(positions.at(-1), 0, 'to the head of the queue')
})

t.test('the wrong key is a 401 ApiError; nothing is queued', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  const intruder = createFalClient({ credentials: 'wrong:key', fetch: falHostFetch(baseUrl) })
  const error = await intruder.queue.submit(ILLUSION, { input: illusionInput }).catch((error: unknown) => error)
  t.ok(error instanceof ApiError)
  t.match(error, { name: 'ApiError', status: 401, body: { detail: String } })
  const anonymous = await fetch(`${baseUrl}/${ILLUSION}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(illusionInput) })
  t.equal(anonymous.status, 401)
  t.equal(emulator.callsOf('submit').length, 2, 'refused calls are still recorded')
})

t.test('invalid input is a 422 the client turns into a ValidationError with field errors', async t => {
  const { fal } = await startEmulator(t)
  const error = await fal.queue.submit(ILLUSION, { input: { image_url: 'https://example.com/p.png' } }).catch((error: unknown) => error)
  t.ok(error instanceof ValidationError)
  const validation = error as ValidationError
  t.equal(validation.status, 422)
  t.same(validation.getFieldErrors('prompt'), [{ loc: ['body', 'prompt'], msg: 'field required', type: 'value_error.missing' }])

  const badSize = await fal.queue.submit(ILLUSION, { input: { ...illusionInput, image_size: { width: 100000, height: 64 } } }).catch((error: unknown) => error)
  t.match(badSize, { name: 'ValidationError', status: 422, body: { detail: [{ loc: ['body', 'image_size', 'width'] }] } })
  const badType = await fal.queue.submit(LAYER, { input: { prompt: 42 } }).catch((error: unknown) => error)
  t.match(badType, { name: 'ValidationError', status: 422, body: { detail: [{ loc: ['body', 'prompt'], type: 'type_error.str' }] } })
})

t.test('custom image sizes are honoured', async t => {
  const { fal } = await startEmulator(t, { queueMs: 0, processingMs: 0 })
  const result = await fal.subscribe(ILLUSION, { input: { ...illusionInput, image_size: { width: 96, height: 40 } }, pollInterval: 10 })
  const data = result.data as ImageOutput
  t.match(data.image, { width: 96, height: 40 })
  const { png } = await decodePng(data.image.url)
  t.same([png.width, png.height], [96, 40])
})

t.test('endpoints without a document in the emulator\'s library are unknown', async t => {
  const { fal } = await startEmulator(t)
  await t.rejects(fal.queue.submit('fal-ai/flux/pro-max', { input: { prompt: 'x' } }),
    { name: 'ApiError', status: 404, body: { detail: "Application 'fal-ai/flux/pro-max' not found" } })
  await t.rejects(fal.queue.submit('fal-ai/fast-sdxl', { input: { prompt: 'x' } }), { name: 'ApiError', status: 404 })
})

t.test('a webhook receives the result on completion', async t => {
  let deliver: (body: unknown) => void = () => {}
  const received = new Promise<unknown>(resolve => { deliver = resolve })
  const receiver = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk: Buffer) => { body += chunk.toString() })
    request.on('end', () => { response.end(); deliver(JSON.parse(body)) })
  })
  t.teardown(() => receiver.close())
  receiver.listen(0, '127.0.0.1')
  await once(receiver, 'listening')
  const { port } = receiver.address() as AddressInfo

  const { fal } = await startEmulator(t)
  const { request_id: requestId } = await fal.queue.submit(LAYER, { input: {}, webhookUrl: `http://127.0.0.1:${port}/hook` })
  t.match(await received, { request_id: requestId, gateway_request_id: requestId, status: 'OK', payload: { image: { width: 1024 }, seed: Number } })
})
