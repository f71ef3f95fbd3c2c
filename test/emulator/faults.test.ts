import t from 'tap'
import { KEY, startEmulator } from './start.js'

const ILLUSION = 'fal-ai/illusion-diffusion'
const input = { image_url: 'https://example.com/pattern.png', prompt: 'a lighthouse' }
const auth = { authorization: `Key ${KEY}`, 'content-type': 'application/json' }

function submit (baseUrl: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${baseUrl}/${ILLUSION}`, { method: 'POST', headers: auth, body: JSON.stringify(input), ...init })
}

t.test('delay answers normally, late, and only for the chosen operations', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  // The job stays queued, so the status answers 202 however late it comes.
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  // Ten minutes: a delayed submit would outlast the test's timeout.
  emulator.faults.set({ mode: 'delay', delayMs: 600_000, operations: ['status'] })
  const submitted = await submit(baseUrl)
  t.equal(submitted.status, 200, 'submit is not delayed')
  const { status_url: statusUrl } = await submitted.json() as { status_url: string }
  emulator.faults.set({ mode: 'delay', delayMs: 300, operations: ['status'] })
  const started = Date.now()
  const status = await fetch(statusUrl, { headers: auth })
  // A lower bound only: a busy machine makes the answer later, never sooner.
  t.ok(Date.now() - started >= 290, 'status is delayed')
  t.equal(status.status, 202, 'then answered normally')
})

t.test('hold keeps the chosen calls waiting until the fault is cleared, then answers them normally', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const { status_url: statusUrl } = await (await submit(baseUrl)).json() as { status_url: string }
  emulator.faults.set({ mode: 'hold', operations: ['status'], count: 2 })
  let answered = 0
  const polls = [0, 1].map(async () => {
    const response = await fetch(statusUrl, { headers: auth })
    answered++
    return response.status
  })
  while (emulator.callsOf('status').length < 2) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(emulator.faults.current, undefined, 'its count used up, the fault applies to no further call')
  t.equal((await fetch(statusUrl, { headers: auth })).status, 202, 'so a third poll is answered at once')
  t.equal(answered, 0, 'while the two held polls still wait')
  emulator.faults.clear()
  t.same(await Promise.all(polls), [202, 202], 'cleared: both are answered normally')
})

t.test('close() ends calls held by a hold fault', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  emulator.faults.set({ mode: 'hold', operations: ['submit'] })
  const outcome = submit(baseUrl).then(() => 'answered', () => 'failed')
  while (emulator.callsOf('submit').length < 1) await new Promise(resolve => setTimeout(resolve, 10))
  await emulator.close()
  t.equal(await outcome, 'failed', 'cut off, not answered')
})

t.test('hang never answers; the client timeout releases it and close() does not wait for it', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  emulator.faults.set({ mode: 'hang', operations: ['submit'] })
  await t.rejects(submit(baseUrl, { signal: AbortSignal.timeout(200) }), { name: 'TimeoutError' })

  const pending = submit(baseUrl)
  const outcome = pending.then(() => 'answered', () => 'failed')
  while (emulator.callsOf('submit').length < 2) await new Promise(resolve => setTimeout(resolve, 10))
  const started = Date.now()
  await emulator.close()
  // The hang is endless: any bound shows close() does not wait for it; a generous one, for busy machines.
  t.ok(Date.now() - started < 10_000, 'close() returns promptly with a request hanging')
  t.equal(await outcome, 'failed', 'the hung request is cut off, not answered')
})

t.test('status answers the injected code with a fal-shaped body and retry-after, `count` times', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  emulator.faults.set({ mode: 'status', status: 503, retryAfter: 7, count: 2 })
  for (let i = 0; i < 2; i++) {
    const response = await submit(baseUrl)
    t.equal(response.status, 503)
    t.equal(response.headers.get('retry-after'), '7')
    t.same(await response.json(), { detail: 'Service Unavailable' })
  }
  t.equal((await submit(baseUrl)).status, 200, 'the third call goes through')
  t.equal(emulator.faults.current, undefined, 'the fault cleared itself')
  t.equal(emulator.callsOf('submit').length, 3, 'faulted calls are recorded')
})

t.test('the official client retries a 503 on submit and then succeeds', async t => {
  const { emulator, fal } = await startEmulator(t)
  emulator.faults.set({ mode: 'status', status: 503, operations: ['submit'], count: 1 })
  const { request_id: requestId } = await fal.queue.submit(ILLUSION, { input })
  t.type(requestId, 'string')
  t.equal(emulator.callsOf('submit').length, 2)
})

t.test('reset destroys the socket without an answer', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  emulator.faults.set({ mode: 'reset', count: 1 })
  await t.rejects(submit(baseUrl), { name: 'TypeError' })
  t.equal((await submit(baseUrl)).status, 200)
})

t.test('malformed answers 200 JSON that does not parse', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  emulator.faults.set({ mode: 'malformed', operations: ['submit'] })
  const response = await submit(baseUrl)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^application\/json/)
  await t.rejects(response.json(), SyntaxError)
  emulator.faults.clear()
  t.equal((await submit(baseUrl)).status, 200, 'clear() ends the fault')
})

t.test('control endpoints set faults and read the call log over HTTP, unrecorded and keyless', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  const json = { 'content-type': 'application/json' }
  const set = await fetch(`${baseUrl}/_emulator/faults`, { method: 'POST', headers: json, body: JSON.stringify({ mode: 'status', status: 429, operations: ['submit'], count: 1 }) })
  t.equal(set.status, 204)
  t.equal((await submit(baseUrl)).status, 429)

  const bad = await fetch(`${baseUrl}/_emulator/faults`, { method: 'POST', headers: json, body: JSON.stringify({ mode: 'explode' }) })
  t.equal(bad.status, 400, 'an unknown fault mode is refused')

  await fetch(`${baseUrl}/_emulator/faults`, { method: 'POST', headers: json, body: JSON.stringify({ mode: 'status', status: 500 }) })
  t.equal((await fetch(`${baseUrl}/_emulator/faults`, { method: 'DELETE' })).status, 204)
  const submitted = await submit(baseUrl)
  t.equal(submitted.status, 200)
  const { status_url: statusUrl, request_id: requestId } = await submitted.json() as { status_url: string, request_id: string }
  await fetch(`${statusUrl}?logs=1`, { headers: auth })

  const calls = await (await fetch(`${baseUrl}/_emulator/calls`)).json() as Array<Record<string, unknown>>
  t.same(calls.map(call => call.operation), ['submit', 'submit', 'status'], 'control calls are not recorded')
  t.match(calls[1], { method: 'POST', url: `/${ILLUSION}`, appId: ILLUSION, body: input, headers: { authorization: `Key ${KEY}` }, at: Number })
  t.match(calls[2], { requestId, appId: ILLUSION, url: `/${ILLUSION}/requests/${requestId}/status?logs=1` })

  const statusOnly = await (await fetch(`${baseUrl}/_emulator/calls?operation=status`)).json() as unknown[]
  t.equal(statusOnly.length, 1)
  t.equal((await fetch(`${baseUrl}/_emulator/calls`, { method: 'DELETE' })).status, 204)
  t.same(emulator.calls, [])
})

t.test('close() ends open status streams', async t => {
  const { emulator, baseUrl } = await startEmulator(t)
  // The job never leaves the queue, so only close() can end its stream.
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const { status_url: statusUrl } = await (await submit(baseUrl)).json() as { status_url: string }
  const stream = await fetch(`${statusUrl}/stream?logs=1`, { headers: { ...auth, accept: 'text/event-stream' } })
  t.equal(stream.headers.get('content-type'), 'text/event-stream')
  const text = stream.text()
  const started = Date.now()
  await emulator.close()
  t.ok(Date.now() - started < 10_000, 'close() does not wait for the stream')
  t.match(await text, /^data: \{.*"status":"IN_QUEUE"/)
})
