import t from 'tap'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, illusionInput, layerInput, pollUntilCompleted, submit } from '../routes/queue/queue-client.js'

const TOKEN = 'metrics-token-for-tests-0123456789'

/** Scrapes /metrics and returns the value of each sample line, keyed by `name{labels}` as printed. */
async function scrape (gateway: TestGateway): Promise<Map<string, number>> {
  const answer = await gateway.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
  const samples = new Map<string, number>()
  for (const line of answer.text.split('\n')) {
    const match = /^(\S+) (\S+)$/.exec(line)
    if (match !== null) samples.set(match[1] as string, Number(match[2]))
  }
  return samples
}

const value = (samples: Map<string, number>, key: string): number => samples.get(key) ?? 0

t.test('/metrics requires the bearer token', async t => {
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN } })
  t.equal((await gateway.request('/metrics')).status, 401)
  t.equal((await gateway.request('/metrics', { headers: { authorization: 'Bearer wrong' } })).status, 401)
  const ok = await gateway.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(ok.status, 200)
  t.match(ok.headers.get('content-type'), /^text\/plain/)
})

t.test('/metrics is not served on the main port without METRICS_TOKEN', async t => {
  const gateway = await startGateway(t)
  t.equal((await gateway.request('/metrics')).status, 404)
})

t.test('metric names: Node and process metrics as stock dashboards expect, the gateway\'s own under fal_gateway_ with units', async t => {
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN } })
  const text = (await gateway.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })).text
  const families = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map(match => [match[1] as string, match[2] as string]))
  for (const name of ['process_cpu_user_seconds_total', 'process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_gc_duration_seconds', 'nodejs_version_info']) {
    t.ok(families.has(name), `${name}, under its standard name`)
  }
  t.notOk([...families.keys()].some(name => name.startsWith('gateway_')), 'no name keeps the old gateway_ prefix')
  const own = [...families].filter(([name]) => name.startsWith('fal_gateway_'))
  t.ok(own.length >= 8, 'the gateway\'s own metrics are under fal_gateway_')
  for (const [name, type] of own) {
    if (type === 'counter') t.match(name, /_total$/, `${name}: a counter ends in _total`)
    if (type === 'histogram') t.match(name, /_(seconds|bytes)$/, `${name}: a histogram names its unit`)
  }
})

t.test('a scripted session moves the counters it should', async t => {
  // Invalid submits spend the budget too: 2 accepted, the 422, 1 accepted, then the 429.
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN, RATE_LIMIT_SUBMIT_MAX: '4', RATE_LIMIT_SUBMIT_WINDOW: '600000' } })
  const submits = [await submit(gateway, ILLUSION, illusionInput), await submit(gateway, LAYER, layerInput)]
  t.same(submits.map(answer => answer.status), [202, 202])
  const before = await scrape(gateway)
  t.equal(value(before, 'fal_gateway_jobs_in_flight'), 2, 'two jobs in flight')

  const polls = await pollUntilCompleted(gateway, `/queue/${ILLUSION}/requests/${submits[0]?.json().request_id as string}/status`)
  const invalid = await submit(gateway, ILLUSION, { prompt: 'no image' })
  const third = await submit(gateway, LAYER, layerInput)
  const limited = await submit(gateway, LAYER, layerInput)
  const unknown = await gateway.request(`/queue/${ILLUSION}/requests/${UNKNOWN_REQUEST_ID}`)
  t.same([invalid.status, third.status, limited.status, unknown.status], [422, 202, 429, 404])

  const after = await scrape(gateway)
  const statusRoute = `/queue/${ILLUSION}/requests/:requestId/status`
  const pollStatuses = polls.map(poll => poll.status)
  const count = (status: number) => pollStatuses.filter(s => s === status).length
  t.equal(value(after, `fal_gateway_http_requests_total{route="${statusRoute}",method="GET",status="202"}`), count(202), 'each 202 poll counted under the route pattern')
  t.equal(value(after, `fal_gateway_http_requests_total{route="${statusRoute}",method="GET",status="200"}`), count(200), 'the final poll counted')
  t.equal(value(after, `fal_gateway_http_request_duration_seconds_count{route="${statusRoute}",method="GET",status="202"}`), count(202), 'and timed')
  t.equal(value(after, `fal_gateway_http_requests_total{route="/queue/${LAYER}",method="POST",status="202"}`), 2, 'two accepted layer submits')
  t.equal(value(after, `fal_gateway_http_requests_total{route="/queue/${ILLUSION}",method="POST",status="422"}`), 1, 'one refused illusion submit')
  t.notOk([...after.keys()].some(key => key.includes(UNKNOWN_REQUEST_ID) || key.includes(submits[0]?.json().request_id)), 'no raw URL or request id in any label')

  t.equal(value(after, 'fal_gateway_refusals_total{code="VALIDATION_FAILED",tier="anonymous"}'), 1, 'the 422 counted by code and tier')
  t.equal(value(after, 'fal_gateway_refusals_total{code="RATE_LIMITED",tier="anonymous"}'), 1, 'the 429')
  t.equal(value(after, 'fal_gateway_refusals_total{code="REQUEST_NOT_FOUND",tier="anonymous"}'), 1, 'the 404')

  t.equal(value(after, `fal_gateway_upstream_requests_total{model="${ILLUSION}",operation="submit",outcome="ok"}`), 1, 'one illusion submit reached fal')
  t.equal(value(after, `fal_gateway_upstream_requests_total{model="${LAYER}",operation="submit",outcome="ok"}`), 2, 'two layer submits reached fal')
  t.equal(value(after, `fal_gateway_upstream_requests_total{model="${ILLUSION}",operation="status",outcome="ok"}`), gateway.emulator.callsOf('status').length, 'every status call that reached fal counted (cached polls did not)')
  t.equal(value(after, `fal_gateway_upstream_request_duration_seconds_count{model="${ILLUSION}",operation="status",outcome="ok"}`), gateway.emulator.callsOf('status').length, 'and was timed')
  t.equal(value(after, `fal_gateway_upstream_requests_total{model="${ILLUSION}",operation="result",outcome="ok"}`), 0, 'the 404 for a request nobody owns never reached fal')
  t.equal(value(after, 'fal_gateway_jobs_in_flight'), 2, 'the completed job left; the layer jobs are still in flight')
})

t.test('fal failing shows as upstream outcomes; circuit state and Redis errors are exported', async t => {
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN } })
  gateway.emulator.faults.set({ mode: 'status', status: 500, operations: ['submit'], count: 1 })
  t.equal((await submit(gateway, ILLUSION, illusionInput)).status, 502)
  gateway.app.metrics.reportCircuitState('submit', 'open')
  const samples = await scrape(gateway)
  t.equal(value(samples, `fal_gateway_upstream_requests_total{model="${ILLUSION}",operation="submit",outcome="server_error"}`), 1)
  t.equal(value(samples, 'fal_gateway_refusals_total{code="UPSTREAM_ERROR",tier="anonymous"}'), 1)
  t.equal(value(samples, 'fal_gateway_circuit_state{operation="submit"}'), 2, 'an open circuit reads 2')
  t.ok(samples.has('fal_gateway_redis_errors_total'), 'the Redis error counter is exported')
})

t.test('every attempt at fal is a call: a status poll retried after fal\'s 503 counts one server_error and one ok', async t => {
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN, POLL_CACHE_MAX_BYTES: '0', POLL_PENDING_FRESH_MS: '0' } })
  gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const submitted = await submit(gateway, ILLUSION, illusionInput)
  t.equal(submitted.status, 202)
  gateway.emulator.faults.set({ mode: 'status', status: 503, operations: ['status'], count: 1 })
  const polled = await gateway.request(`/queue/${ILLUSION}/requests/${submitted.json().request_id as string}/status`)
  t.equal(polled.status, 202, 'the client never saw the 503: the retry answered')
  const samples = await scrape(gateway)
  const calls = (outcome: string) => value(samples, `fal_gateway_upstream_requests_total{model="${ILLUSION}",operation="status",outcome="${outcome}"}`)
  t.equal(calls('server_error'), 1, 'the first attempt, answered 503')
  t.equal(calls('ok'), 1, 'the retry')
  t.equal(value(samples, `fal_gateway_upstream_request_duration_seconds_count{model="${ILLUSION}",operation="status",outcome="ok"}`), 1, 'each timed')
  t.equal(value(samples, 'fal_gateway_upstream_requests_total{model="other",operation="status",outcome="ok"}'), 0, 'labelled by the model, not as other')
})

t.test('log lines of a request carry its id, the client id and fal\'s request id', async t => {
  const gateway = await startGateway(t)
  const submitted = await submit(gateway, ILLUSION, illusionInput)
  const falRequestId = submitted.json().request_id as string
  await gateway.request(`/queue/${ILLUSION}/requests/${falRequestId}/status`, { headers: { 'x-request-id': 'trace-abc.123' } })
  const pollLines = gateway.logs.map(line => JSON.parse(line)).filter(line => line.reqId === 'trace-abc.123')
  t.ok(pollLines.length >= 2, 'the valid incoming x-request-id is the request id')
  const completed = pollLines.find(line => line.msg === 'request completed')
  t.match(completed, { clientId: String, falRequestId }, 'the completed line carries the client and fal request ids')
  const submitCompleted = gateway.logs.map(line => JSON.parse(line)).find(line => line.msg === 'request completed' && line.res?.statusCode === 202)
  t.match(submitCompleted, { clientId: String, falRequestId }, 'a submit\'s completed line carries the fal request id fal gave it')
})
