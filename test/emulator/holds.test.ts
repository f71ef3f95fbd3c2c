// Holding jobs at the end of a phase, in process and over /_emulator/holds, so that tests drive a
// job's phases instead of racing its timings.
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import t from 'tap'
import { KEY, startEmulator } from './start.js'

const LAYER = 'fal-ai/layer-diffusion'
const auth = { authorization: `Key ${KEY}`, 'content-type': 'application/json' }
const json = { 'content-type': 'application/json' }

interface Submitted { request_id: string, status_url: string }

async function submit (baseUrl: string, query = ''): Promise<Submitted> {
  return await (await fetch(`${baseUrl}/${LAYER}${query}`, { method: 'POST', headers: auth, body: '{}' })).json() as Submitted
}

async function statusOf (statusUrl: string): Promise<{ status: string, queue_position?: number, logs?: unknown[] }> {
  return await (await fetch(`${statusUrl}?logs=1`, { headers: auth })).json() as { status: string }
}

/** Polls until the job reports `state`; bounded, so a job that never gets there fails the test. */
async function until (statusUrl: string, state: string): Promise<void> {
  for (const deadline = Date.now() + 20_000; Date.now() < deadline; await new Promise(resolve => setTimeout(resolve, 20))) {
    if ((await statusOf(statusUrl)).status === state) return
  }
  throw new Error(`the job never reached ${state}`)
}

t.test('over HTTP: new jobs held IN_QUEUE stay queued until DELETE /_emulator/holds', async t => {
  const { baseUrl } = await startEmulator(t, { queueMs: 0, processingMs: 50 })
  const hold = await fetch(`${baseUrl}/_emulator/holds`, { method: 'POST', headers: json, body: JSON.stringify({ phase: 'IN_QUEUE' }) })
  t.equal(hold.status, 204)
  const job = await submit(baseUrl)
  t.match(await statusOf(job.status_url), { status: 'IN_QUEUE', queue_position: 0 }, 'a job with no queue time at all is still queued')
  t.same(await (await fetch(`${baseUrl}/_emulator/holds`)).json(), { newJobs: ['IN_QUEUE'], jobs: [{ requestId: job.request_id, phases: ['IN_QUEUE'] }] })

  t.equal((await fetch(`${baseUrl}/_emulator/holds`, { method: 'DELETE' })).status, 204)
  await until(job.status_url, 'COMPLETED')
  t.pass('released, it runs to completion')
  t.same(await (await fetch(`${baseUrl}/_emulator/holds`)).json(), { newJobs: [], jobs: [] }, 'nothing is held any more')
})

t.test('over HTTP: one job held IN_QUEUE by its request id, then released by it', async t => {
  const { baseUrl } = await startEmulator(t, { queueMs: 60_000, processingMs: 0 })
  const job = await submit(baseUrl)
  const other = await submit(baseUrl)
  const hold = await fetch(`${baseUrl}/_emulator/holds`, { method: 'POST', headers: json, body: JSON.stringify({ phase: 'IN_QUEUE', requestId: job.request_id }) })
  t.equal(hold.status, 204)
  t.same((await (await fetch(`${baseUrl}/_emulator/holds`)).json() as { jobs: unknown[] }).jobs, [{ requestId: job.request_id, phases: ['IN_QUEUE'] }], 'that job alone is held')
  t.equal((await fetch(`${baseUrl}/_emulator/holds?requestId=${job.request_id}`, { method: 'DELETE' })).status, 204)
  t.same((await (await fetch(`${baseUrl}/_emulator/holds`)).json() as { jobs: unknown[] }).jobs, [], 'and released')
  t.match(await statusOf(job.status_url), { status: 'IN_QUEUE' }, 'a release never shortens the queue time itself')
  t.match(await statusOf(other.status_url), { status: 'IN_QUEUE' }, 'the other job was never held')
})

t.test('over HTTP: jobs held IN_PROGRESS emit every log line, then wait; one is released by its request id', async t => {
  const { baseUrl } = await startEmulator(t, { queueMs: 0, processingMs: 0 })
  await fetch(`${baseUrl}/_emulator/holds`, { method: 'POST', headers: json, body: JSON.stringify({ phase: 'IN_PROGRESS' }) })
  const job = await submit(baseUrl)
  const other = await submit(baseUrl)
  const running = await statusOf(job.status_url)
  t.match(running, { status: 'IN_PROGRESS' }, 'with no processing time at all it is still running')
  t.equal(running.logs?.length, 7, 'every log line is out')

  t.equal((await fetch(`${baseUrl}/_emulator/holds?phase=IN_PROGRESS&requestId=${job.request_id}`, { method: 'DELETE' })).status, 204)
  t.match(await statusOf(job.status_url), { status: 'COMPLETED' }, 'released at the end of processing: completed at once')
  t.match(await statusOf(other.status_url), { status: 'IN_PROGRESS' }, 'the other job is still held')
})

t.test('over HTTP: an unknown request is 404, one that has left the phase 409, a bad body 400', async t => {
  const { baseUrl } = await startEmulator(t, { queueMs: 0, processingMs: 0 })
  const hold = async (body: unknown): Promise<Response> => await fetch(`${baseUrl}/_emulator/holds`, { method: 'POST', headers: json, body: JSON.stringify(body) })
  const unknown = await hold({ phase: 'IN_QUEUE', requestId: '00000000-0000-4000-8000-000000000000' })
  t.equal(unknown.status, 404)
  t.same(await unknown.json(), { detail: 'Request not found' })
  const done = await submit(baseUrl)
  await until(done.status_url, 'COMPLETED')
  const late = await hold({ phase: 'IN_PROGRESS', requestId: done.request_id })
  t.equal(late.status, 409)
  t.same(await late.json(), { detail: 'The request has already left IN_PROGRESS' })
  t.equal((await hold({ phase: 'COMPLETED' })).status, 400, 'COMPLETED is no phase to hold a job in')
  t.equal((await fetch(`${baseUrl}/_emulator/holds?phase=DONE`, { method: 'DELETE' })).status, 400)
})

t.test('a held job\'s webhook is delivered only after its release', async t => {
  let released = false
  const deliveredAfterRelease: boolean[] = []
  let deliver: (body: unknown) => void = () => {}
  const received = new Promise<unknown>(resolve => { deliver = resolve })
  const receiver = createServer((request, response) => {
    deliveredAfterRelease.push(released)
    let body = ''
    request.on('data', (chunk: Buffer) => { body += chunk.toString() })
    request.on('end', () => {
      response.end()
      deliver(JSON.parse(body))
    })
  })
  t.teardown(() => receiver.close())
  receiver.listen(0, '127.0.0.1')
  await once(receiver, 'listening')
  const { port } = receiver.address() as AddressInfo

  // With no queue or processing time, the webhook would go out at once if the hold were ignored.
  const { emulator, baseUrl } = await startEmulator(t, { queueMs: 0, processingMs: 0 })
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const job = await submit(baseUrl, `?fal_webhook=${encodeURIComponent(`http://127.0.0.1:${port}/hook`)}`)
  t.match(await statusOf(job.status_url), { status: 'IN_QUEUE' })
  released = true
  emulator.jobs.release()
  const body = await received
  t.same(deliveredAfterRelease, [true], 'one delivery, after the release')
  t.match(body, { request_id: job.request_id, status: 'OK', payload: { image: { width: 1024 } } })
})

t.test('a status stream waits with a held job and goes on once it is released', async t => {
  const { emulator, baseUrl } = await startEmulator(t, { queueMs: 0, processingMs: 0 })
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const job = await submit(baseUrl)
  const stream = await fetch(`${job.status_url}/stream`, { headers: auth })
  const reader = (stream.body as ReadableStream<Uint8Array>).getReader()
  const decoder = new TextDecoder()
  let text = ''
  while (!text.includes('"status":"IN_QUEUE"')) text += decoder.decode((await reader.read()).value)
  t.notOk(text.includes('IN_PROGRESS'), 'the first event: queued')
  emulator.jobs.release()
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value)
  t.match(text, /"status":"COMPLETED"/, 'after the release the stream runs to the end')
})
