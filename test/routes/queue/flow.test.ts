import { PNG } from 'pngjs'
import t from 'tap'
import { ILLUSION, LAYER, holdEveryPhase, illusionInput, layerInput, pathOf, pollUntilCompleted, submit, startQueueGateway } from './queue-client.js'

const REQUEST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

interface ImageOutput {
  image: { url: string, content_type: string, width: number, height: number, file_size: number }
  seed: number
}

const cases = [
  { appId: ILLUSION, input: { ...illusionInput, image_size: 'landscape_16_9', seed: 42 }, size: [1024, 576], alpha: false },
  { appId: LAYER, input: { ...layerInput, seed: 42 }, size: [1024, 1024], alpha: true }
] as const

for (const { appId, input, size, alpha } of cases) {
  t.test(`${appId}: submit, poll the status with logs, fetch the result and its PNG`, async t => {
    const gateway = await startQueueGateway(t, { emulator: { queueMs: 100, processingMs: 300 } })
    // The job waits in each phase until a poll has seen it there.
    holdEveryPhase(gateway)
    const submitted = await submit(gateway, appId, input)
    t.equal(submitted.status, 202, 'submit answers 202')
    const body = submitted.json()
    t.match(body, { request_id: REQUEST_ID, status: 'IN_QUEUE', queue_position: Number })
    const base = `${gateway.url}/queue/${appId}/requests/${body.request_id}`
    t.same(
      { status: body.status_url, response: body.response_url, cancel: body.cancel_url },
      { status: `${base}/status`, response: base, cancel: `${base}/cancel` },
      'status, response and cancel URLs point at the gateway, not at fal'
    )
    t.equal(gateway.emulator.callsOf('submit').length, 1, 'fal received the submit once')

    const polls = await pollUntilCompleted(gateway, `${pathOf(body.status_url)}?logs=1`, 20_000, { releaseSeenPhases: true })
    const pending = polls.filter(poll => poll.status === 202).map(poll => poll.json())
    const last = polls.at(-1)
    t.ok(pending.some(status => status.status === 'IN_QUEUE'), 'a poll saw the job queued (202 IN_QUEUE)')
    const running = pending.filter(status => status.status === 'IN_PROGRESS')
    t.ok(running.length > 0, 'a poll saw the job running (202 IN_PROGRESS)')
    t.ok(running.some(status => Array.isArray(status.logs) && status.logs.length > 0 && typeof status.logs[0].message === 'string'),
      'with ?logs=1 the running status carries log lines')
    t.ok(pending.every(status => status.status_url === body.status_url), 'every status points back at the gateway')
    t.equal(last?.status, 200, 'the final status answers 200')
    t.match(last?.json(), { status: 'COMPLETED', request_id: body.request_id, response_url: body.response_url })

    const withoutLogs = await gateway.request(pathOf(body.status_url))
    t.same(withoutLogs.json().logs ?? [], [], 'without ?logs=1 no log lines are passed')

    const result = await gateway.request(pathOf(body.response_url))
    t.equal(result.status, 200, 'the result answers 200')
    t.equal(result.headers.get('x-fal-request-id'), body.request_id, 'x-fal-request-id names the request')
    const output = result.json<ImageOutput>()
    t.equal(output.seed, 42, 'the seed asked for is reported')
    t.match(output.image, { content_type: 'image/png', width: size[0], height: size[1] })

    const image = await fetch(output.image.url)
    t.equal(image.status, 200)
    const png = PNG.sync.read(Buffer.from(await image.arrayBuffer()))
    t.same([png.width, png.height], size, 'the image URL serves a real PNG of the reported size')
    t.equal(png.alpha, alpha, alpha ? 'Layer Diffusion answers with transparency' : 'Illusion Diffusion answers an opaque image')
  })

  t.test(`${appId}: cancel a queued job the way @fal-ai/client does`, async t => {
    const gateway = await startQueueGateway(t)
    gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
    const queued = (await submit(gateway, appId, input)).json()
    // The way @fal-ai/client cancels: PUT, JSON content type, no body.
    const cancelled = await gateway.request(pathOf(queued.cancel_url), { method: 'PUT', headers: { 'content-type': 'application/json' } })
    t.equal(cancelled.status, 202, 'cancelling a queued job answers 202')
    t.same(cancelled.json(), { status: 'CANCELLATION_REQUESTED' })
    t.equal(gateway.emulator.callsOf('cancel').length, 1, 'fal received the cancel')
  })

  t.test(`${appId}: cancelling a completed job answers ALREADY_COMPLETED`, async t => {
    const gateway = await startQueueGateway(t, { emulator: { queueMs: 20, processingMs: 50 } })
    const done = (await submit(gateway, appId, input)).json()
    const polls = await pollUntilCompleted(gateway, pathOf(done.status_url))
    t.equal(polls.at(-1)?.status, 200, 'the job completed')
    const late = await gateway.request(pathOf(done.cancel_url), { method: 'PUT' })
    t.equal(late.status, 400)
    t.match(late.json(), { statusCode: 400, code: 'ALREADY_COMPLETED', message: String })
  })
}

t.test('with PUBLIC_URL set, every URL handed out points at it', async t => {
  const gateway = await startQueueGateway(t, { env: { PUBLIC_URL: 'https://gateway.example.com/api/' } })
  const body = (await submit(gateway, ILLUSION, illusionInput)).json()
  const base = `https://gateway.example.com/api/queue/${ILLUSION}/requests/${body.request_id}`
  t.equal(body.status_url, `${base}/status`)
  t.equal(body.response_url, base)
  t.equal(body.cancel_url, `${base}/cancel`)
  const status = await gateway.request(`/queue/${ILLUSION}/requests/${body.request_id}/status`)
  t.equal(status.json().status_url, `${base}/status`, 'status answers point at PUBLIC_URL too')
})
