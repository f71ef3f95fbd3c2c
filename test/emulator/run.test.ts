import { createFalClient, ApiError, ValidationError } from '@fal-ai/client'
import t from 'tap'
import { falHostFetch } from '../helpers/fal-host-fetch.js'
import { ILLUSION, LAYER, illusionInput, layerInput } from '../helpers/fixtures.js'
import { startEmulator } from './start.js'

t.test('fal.run answers the output once the job is done, with its request id', async t => {
  const { fal, emulator } = await startEmulator(t)
  emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  let answered = false
  const running = fal.run(ILLUSION, { input: { ...illusionInput, image_size: 'square' } }).finally(() => { answered = true })
  for (const deadline = Date.now() + 30_000; emulator.jobs.holds.jobs.length === 0 && Date.now() < deadline;) await new Promise(resolve => setTimeout(resolve, 10))
  const [held] = emulator.jobs.holds.jobs
  t.ok(held !== undefined, 'the run is a job, held like a queued one')
  t.notOk(answered, 'no answer while it runs')
  emulator.jobs.release()
  const { data, requestId } = await running
  t.equal(requestId, held?.requestId, 'x-fal-request-id names the job')
  t.match(data, { image: { url: String, width: 512, height: 512, content_type: 'image/png' }, seed: Number })
  const image = await fetch((data as { image: { url: string } }).image.url)
  t.equal(image.headers.get('content-type'), 'image/png', 'the output image is served')
  t.equal(emulator.callsOf('run').length, 1)
})

t.test('fal.run refuses a wrong key, an unknown app and invalid input as fal does', async t => {
  const { fal, baseUrl, emulator } = await startEmulator(t)
  const intruder = createFalClient({ credentials: 'wrong:key', fetch: falHostFetch(baseUrl) })
  await t.rejects(intruder.run(LAYER, { input: layerInput }), { name: 'ApiError', status: 401 })
  await t.rejects(fal.run('fal-ai/no-such-app', { input: { prompt: 'x' } }), { name: 'ApiError', status: 404 })
  const invalid = await fal.run(ILLUSION, { input: { prompt: 'no pattern' } as never }).catch((error: unknown) => error)
  t.ok(invalid instanceof ValidationError)
  t.match((invalid as ValidationError).fieldErrors, [{ loc: ['body', 'image_url'] }])
  t.equal(emulator.jobs.holds.jobs.length, 0)
})

t.test('fal.stream: a progress event per log line, then the output; an app that does not stream is a 404', async t => {
  const { fal } = await startEmulator(t)
  const stream = await fal.stream(ILLUSION, { input: illusionInput })
  const events: unknown[] = []
  stream.on('data', event => { events.push(event) })
  const output = await stream.done()
  t.match(output, { image: { url: String }, seed: Number })
  t.equal(events.length, 8, 'seven log lines, then the output')
  t.match(events[0], { progress: 1 / 7, message: 'Loading model weights' })
  t.match(events[6], { progress: 1, message: 'Uploading results' })

  const refused = await fal.stream(LAYER, { input: layerInput })
  const error = await refused.done().then(() => undefined, (caught: unknown) => caught)
  t.ok(error instanceof ApiError)
  t.equal((error as ApiError<unknown>).status, 404)
})

t.test('multipart storage: parts in any order, joined by part number on complete; a wrong etag is refused', async t => {
  const { baseUrl, emulator } = await startEmulator(t)
  const initiate = await fetch(`${baseUrl}/storage/upload/initiate-multipart?storage_type=fal-cdn-v3`, {
    method: 'POST',
    headers: { authorization: `Key ${'emulator-test-id:emulator-test-secret'}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content_type: 'text/plain', file_name: 'parts.txt' })
  })
  const { upload_url: uploadUrl, file_url: fileUrl } = await initiate.json() as { upload_url: string, file_url: string }
  const put = async (part: number, text: string): Promise<{ partNumber: number, etag: string }> =>
    await (await fetch(`${uploadUrl}/${part}`, { method: 'PUT', body: text })).json() as { partNumber: number, etag: string }
  const second = await put(2, 'world')
  const first = await put(1, 'hello ')
  t.equal(first.partNumber, 1)
  const complete = async (parts: unknown[]): Promise<Response> =>
    await fetch(`${uploadUrl}/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ parts }) })
  t.equal((await complete([first, { ...second, etag: 'nope' }])).status, 400, 'a wrong etag is refused')
  t.equal((await complete([second, first])).status, 200)
  t.equal(await (await fetch(fileUrl)).text(), 'hello world', 'joined in part-number order')
  t.same(emulator.calls.map(call => call.operation), ['upload-initiate-multipart', 'upload-part', 'upload-part', 'upload-complete', 'upload-complete', 'file'])
  t.equal((await fetch(`${uploadUrl}/1`, { method: 'OPTIONS' })).headers.get('access-control-allow-methods'), 'PUT, POST', 'browsers may PUT parts cross-origin')
})
