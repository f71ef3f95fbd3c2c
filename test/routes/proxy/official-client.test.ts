import t from 'tap'
import { createFalClient, ValidationError, type FalClient, type QueueStatus } from '@fal-ai/client'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { ILLUSION, LAYER, illusionInput } from '../../helpers/fixtures.js'

/** The official client, configured as a browser app would be: a proxy URL and no credentials. */
async function clientThroughGateway (t: Parameters<typeof startGateway>[0]): Promise<{ fal: FalClient, gateway: TestGateway }> {
  const gateway = await startGateway(t, {
    env: { RATE_LIMIT_SUBMIT_MAX: '100', MAX_IN_FLIGHT: '50' },
    emulator: { queueMs: 150, processingMs: 400 }
  })
  const fal = createFalClient({ proxyUrl: { url: `${gateway.url}/api/fal/proxy`, when: 'always' } })
  return { fal, gateway }
}

for (const [model, input] of [[ILLUSION, illusionInput], [LAYER, { prompt: 'a glass bottle' }]] as const) {
  t.test(`subscribe to ${model} through the gateway, with queue updates and logs`, async t => {
    const { fal, gateway } = await clientThroughGateway(t)
    // Each phase lasts until the client has seen it.
    gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
    gateway.emulator.jobs.hold({ phase: 'IN_PROGRESS' })
    const updates: QueueStatus[] = []
    const result = await fal.subscribe(model, {
      input,
      logs: true,
      pollInterval: 50,
      onQueueUpdate: update => {
        updates.push(update)
        if (update.status !== 'COMPLETED') gateway.emulator.jobs.release({ phase: update.status })
      }
    })
    t.match(result.requestId, /^[0-9a-f-]{36}$/, 'the request id came back through x-fal-request-id')
    t.match(result.data, { image: { url: String, content_type: 'image/png', width: Number, height: Number }, seed: Number })
    t.ok(updates.some(update => update.status === 'IN_QUEUE'), 'saw the job queued')
    t.ok(updates.some(update => update.status === 'IN_PROGRESS'), 'saw the job running')
    const logs = updates.flatMap(update => 'logs' in update ? update.logs ?? [] : [])
    t.ok(logs.length > 0, 'saw log lines')
    const submits = gateway.emulator.callsOf('submit')
    t.equal(submits.length, 1, 'fal received one submit')
    t.equal(submits[0]?.headers.authorization, `Key ${gateway.config.falKey}`, 'fal saw the gateway\'s key')
  })
}

t.test('queue.submit, status, result and cancel, one at a time', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const { request_id: requestId } = await fal.queue.submit(ILLUSION, { input: illusionInput })
  const early = await fal.queue.status(ILLUSION, { requestId, logs: true })
  t.equal(early.status, 'IN_QUEUE')
  gateway.emulator.jobs.release({ requestId })
  let status = early
  for (const deadline = Date.now() + 20_000; status.status !== 'COMPLETED' && Date.now() < deadline;) {
    await new Promise(resolve => setTimeout(resolve, 30))
    status = await fal.queue.status(ILLUSION, { requestId, logs: true })
  }
  t.equal(status.status, 'COMPLETED')
  const result = await fal.queue.result(ILLUSION, { requestId })
  t.equal(result.requestId, requestId)
  t.match(result.data, { image: { url: String }, seed: Number })

  // New jobs are still held in the queue: this one cannot complete before the cancel.
  const queued = await fal.queue.submit(LAYER, { input: {} })
  await fal.queue.cancel(LAYER, { requestId: queued.request_id })
  const cancelled = await fal.queue.status(LAYER, { requestId: queued.request_id })
  t.equal(cancelled.status, 'COMPLETED', 'a cancelled job reads as finished')
})

t.test('queue.streamStatus passes the status stream through to completion', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  // Queued until the stream has shown it so.
  gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const { request_id: requestId } = await fal.queue.submit(LAYER, { input: { prompt: 'a cat' } })
  const stream = await fal.queue.streamStatus(LAYER, { requestId, logs: true })
  const seen: string[] = []
  stream.on('data', (update: QueueStatus) => {
    seen.push(update.status)
    if (update.status === 'IN_QUEUE') gateway.emulator.jobs.release()
  })
  const done = await stream.done()
  t.equal(done.status, 'COMPLETED')
  t.equal(seen[0], 'IN_QUEUE', 'events arrived before completion')
})

t.test('storage.upload goes through the gateway, then the file is a valid input', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  const url = await fal.storage.upload(new Blob(['not really a png'], { type: 'image/png' }))
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+\/files\/uploads\//)
  t.equal((await (await fetch(url)).text()), 'not really a png', 'the bytes were stored')
  const initiate = gateway.emulator.callsOf('upload-initiate')
  t.equal(initiate.length, 1)
  t.equal(initiate[0]?.headers.authorization, `Key ${gateway.config.falKey}`)
  const result = await fal.subscribe(ILLUSION, { input: { image_url: url, prompt: 'from an upload' }, pollInterval: 50 })
  t.match(result.data, { image: { url: String } })
})

t.test('invalid input raises ValidationError with field errors, and fal receives nothing', async t => {
  const { fal, gateway } = await clientThroughGateway(t)
  const error = await fal.queue.submit(ILLUSION, { input: { prompt: 'no pattern', image_size: { width: 100, height: 512 } } as never })
    .then(() => undefined, (caught: unknown) => caught)
  t.ok(error instanceof ValidationError, 'the client raised ValidationError')
  const fieldErrors = (error as ValidationError).fieldErrors
  t.match(fieldErrors, [
    { loc: ['body', 'image_url'], msg: 'field required' },
    { loc: ['body', 'image_size', 'width'], msg: /multiple of 8/ }
  ])
  t.same((error as ValidationError).getFieldErrors('width').length, 1)
  t.equal(gateway.emulator.callsOf('submit').length, 0)
})
