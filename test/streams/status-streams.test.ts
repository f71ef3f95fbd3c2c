import t from 'tap'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { ILLUSION } from '../helpers/fixtures.js'
import { operateVia, startCluster, submitVia, type Route } from '../replicas/cluster.js'
import { deliver, until, WEBHOOKS_ON } from '../webhooks/webhook-gateway.js'
import { dataEvents, openStream, type OpenStream } from './sse-client.js'

const ABUSER = { 'x-forwarded-for': '198.51.100.66' }
const VICTIM = { 'x-forwarded-for': '198.51.100.77' }
/** Far more than any answer needs on a busy machine, far less than a starved request waits. */
const PROMPTLY_MS = 20_000

async function submitAs (gateway: TestGateway, headers: Record<string, string>, route: Route = 'typed'): Promise<string> {
  const answer = await submitVia(gateway, route, { headers })
  if (answer.status >= 300) throw new Error(`submit answered ${answer.status}: ${answer.text}`)
  return answer.json().request_id
}

t.test('300 status streams from one client leave another client\'s poll and submit answered promptly', async t => {
  // Every job stays queued: streams stay open for as long as the test wants.
  const gateway = await startGateway(t, { env: { TRUST_PROXY: '127.0.0.1/32' }, emulator: { queueMs: 600_000 } })
  const jobs: string[] = []
  for (let i = 0; i < 10; i++) jobs.push(await submitAs(gateway, ABUSER))
  const victimJob = await submitAs(gateway, VICTIM)

  // Not awaited: on a gateway that lets them starve everyone, most would never be answered.
  const hangUp = new AbortController()
  t.teardown(() => { hangUp.abort() })
  const opening = Array.from({ length: 300 }, async (_, i) =>
    await openStream(gateway, i % 2 === 0 ? 'typed' : 'proxy', jobs[i % jobs.length] as string, ABUSER, hangUp.signal))
  // Hung up in teardown, perhaps before they were answered.
  for (const stream of opening) stream.catch(() => {})
  await until(() => gateway.arrived.filter(line => line.endsWith('/status/stream') || line === 'GET /api/fal/proxy').length === 300, 'all 300 streams at the gateway')

  const signal = AbortSignal.timeout(PROMPTLY_MS)
  const poll = await fetch(`${gateway.url}/queue/${ILLUSION}/requests/${victimJob}/status`, { headers: VICTIM, signal })
  t.equal(poll.status, 202, "the other client's poll is answered")
  t.match(await poll.json(), { status: 'IN_QUEUE' })
  const submit = await fetch(`${gateway.url}/queue/${ILLUSION}`, {
    method: 'POST', headers: { ...VICTIM, 'content-type': 'application/json' }, body: JSON.stringify({ image_url: 'https://example.com/p.png', prompt: 'x' }), signal
  })
  t.equal(submit.status, 202, "the other client's submit is answered")

  const streams = await Promise.all(opening)
  const open = streams.filter(stream => stream.status === 200)
  const refused = streams.filter(stream => stream.status === 429)
  t.equal(open.length, 32, 'the client holds MAX_STREAMS_PER_CLIENT streams (default 32)')
  t.equal(refused.length, 268, 'the rest are refused')
  const refusal = JSON.parse(await (refused[0] as OpenStream).ended)
  t.equal(refusal.code, 'TOO_MANY_STREAMS')
  t.ok(Number((refused[0] as OpenStream).headers.get('retry-after')) > 0, 'with Retry-After')
  t.equal(gateway.emulator.callsOf('stream').length, 10, 'one stream from fal per job, whatever the number of listeners')
})

t.test('a node holds at most MAX_STREAMS_PER_NODE streams of all clients together, and takes another once one closes', async t => {
  const gateway = await startGateway(t, { env: { TRUST_PROXY: '127.0.0.1/32', MAX_STREAMS_PER_NODE: '3' }, emulator: { queueMs: 600_000 } })
  const abuserJob = await submitAs(gateway, ABUSER)
  const victimJob = await submitAs(gateway, VICTIM)
  const unwatchedJob = await submitAs(gateway, VICTIM)
  const hangUp = new AbortController()
  t.teardown(() => { hangUp.abort() })
  const held = [
    await openStream(gateway, 'typed', abuserJob, ABUSER, hangUp.signal),
    await openStream(gateway, 'proxy', abuserJob, ABUSER, hangUp.signal),
    await openStream(gateway, 'typed', victimJob, VICTIM, hangUp.signal)
  ]
  t.same(held.map(stream => stream.status), [200, 200, 200], 'two clients, each well within MAX_STREAMS_PER_CLIENT, hold three streams')

  const refused = await openStream(gateway, 'proxy', unwatchedJob, VICTIM, hangUp.signal)
  t.equal(refused.status, 503, 'a fourth stream on the node is refused')
  t.equal(JSON.parse(await refused.ended).code, 'OVERLOADED')
  t.ok(Number(refused.headers.get('retry-after')) > 0, 'with Retry-After')
  t.equal(gateway.emulator.callsOf('stream').length, 2, 'fal was not asked for the refused stream\'s job')

  held[0]?.close()
  let next: OpenStream | undefined
  // The gateway learns of the hang-up asynchronously: a stream is refused until then.
  await until(async () => {
    next?.close()
    next = await openStream(gateway, 'proxy', victimJob, VICTIM, hangUp.signal)
    return next.status === 200
  }, 'a stream once one of the three has closed')
  t.equal(next?.status, 200, 'a closed stream gives its place back')
})

t.test('listeners of one job share one upstream stream on both routes; all end at completion; a late one starts from the latest status', async t => {
  const gateway = await startGateway(t, { env: { MAX_STREAMS_PER_CLIENT: '100' } })
  gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const requestId = await submitAs(gateway, {})
  const streams = await Promise.all(Array.from({ length: 40 }, async (_, i) => await openStream(gateway, i % 2 === 0 ? 'typed' : 'proxy', requestId)))
  t.ok(streams.every(stream => stream.status === 200), 'every stream opens')
  await until(() => streams.every(stream => dataEvents(stream.text()).length > 0), 'a first event on every stream')
  t.equal(gateway.emulator.callsOf('stream').length, 1, 'forty listeners, one stream from fal')
  t.equal(gateway.app.statusStreams.hub.upstreamStreams, 1)

  const late = await openStream(gateway, 'typed', requestId)
  await until(() => dataEvents(late.text()).length > 0, 'the late listener\'s first event')
  t.match(dataEvents(late.text())[0], { status: 'IN_QUEUE', request_id: requestId }, 'the latest status at once')

  gateway.emulator.jobs.release()
  const texts = await Promise.all([...streams, late].map(async stream => await stream.ended))
  for (const text of texts) t.equal(dataEvents(text).at(-1).status, 'COMPLETED')
  t.match(dataEvents(texts[0] as string).at(-1).status_url, new RegExp(`/queue/${ILLUSION}/requests/${requestId}/status$`), 'typed events point at the gateway')
  t.equal(gateway.emulator.callsOf('stream').length, 1, 'still one stream from fal')
  t.equal(gateway.app.statusStreams.hub.upstreamStreams, 0, 'and it is gone')
})

t.test('the last listener to leave closes fal\'s stream', async t => {
  // A client that hung up leaves its socket to the keep-alive timeout: a short one, so the close is quick.
  const gateway = await startGateway(t, { env: { KEEP_ALIVE_TIMEOUT_MS: '1000' }, emulator: { queueMs: 600_000 } })
  const requestId = await submitAs(gateway, {})
  const streams = await Promise.all([openStream(gateway, 'typed', requestId), openStream(gateway, 'proxy', requestId)])
  await until(() => streams.every(stream => stream.text().length > 0), 'both streams flowing')
  ;(streams[0] as OpenStream).close()
  await new Promise(resolve => setTimeout(resolve, 200))
  t.equal(gateway.app.statusStreams.hub.upstreamStreams, 1, 'one listener left: fal\'s stream stays')
  ;(streams[1] as OpenStream).close()
  await until(() => gateway.app.statusStreams.hub.upstreamStreams === 0, 'fal\'s stream closed')
  t.pass('closed when nobody listens')
})

t.test('FAL_WEBHOOKS=on: a webhook landing on one replica ends both routes\' streams on the other, without fal\'s stream ending', async t => {
  const { gateways, emulator } = await startCluster(t, { env: WEBHOOKS_ON, emulator: { queueMs: 600_000 } })
  const [first, second] = gateways as [TestGateway, TestGateway]
  const requestId = await submitAs(first, {})
  const streams = await Promise.all([openStream(second, 'typed', requestId), openStream(second, 'proxy', requestId)])
  await until(() => streams.every(stream => dataEvents(stream.text()).length > 0), 'both streams flowing')
  t.same(await deliver(first, requestId), [200])
  for (const stream of streams) {
    const last = dataEvents(await stream.ended).at(-1)
    t.match(last, { status: 'COMPLETED', request_id: requestId })
  }
  t.match(dataEvents(streams[0]?.text() ?? '').at(-1).status_url, /^http:\/\/gateway\.test\/queue\//, 'the typed stream points at the gateway')
  const streamCalls = emulator.callsOf('stream').length
  const after = await openStream(first, 'proxy', requestId)
  t.match(dataEvents(await after.ended), [{ status: 'COMPLETED', request_id: requestId }], 'a stream opened afterwards is told at once')
  t.equal(emulator.callsOf('stream').length, streamCalls, '...without fal')
  t.equal((await operateVia(second, 'typed', 'status', requestId)).json().status, 'COMPLETED')
})
