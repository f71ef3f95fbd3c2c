import t, { type Test } from 'tap'
import { connect } from 'node:net'
import { once } from 'node:events'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { ILLUSION } from '../routes/queue/queue-client.js'

const MiB = 1024 * 1024
const OVERSIZED = 40 * MiB

/** The two ways to submit, each with the headers it needs besides the content type. */
const ROUTES = [
  { name: 'typed route', path: `/queue/${ILLUSION}`, headers: {} },
  { name: 'proxy', path: '/api/fal/proxy', headers: { 'x-fal-target-url': `https://queue.fal.run/${ILLUSION}` } }
] as const

function oversizedJson (): string {
  return `{"prompt":"${'x'.repeat(OVERSIZED - 13)}"}`
}

function checkTooLarge (t: Test, gateway: TestGateway, answer: { status: number, json: () => unknown }, label: string): void {
  t.equal(answer.status, 413, `${label}: 413`)
  t.match(answer.json(), { statusCode: 413, code: 'BODY_TOO_LARGE', error: 'Payload Too Large', message: /10485760/ }, `${label}: the gateway's error body`)
  t.equal(gateway.emulator.callsOf('submit').length, 0, `${label}: fal received nothing`)
}

t.test("Node's fetch posting 40 MiB reads the typed 413, not EPIPE, on both routes", async t => {
  const gateway = await startGateway(t)
  const body = oversizedJson()
  for (const route of ROUTES) {
    const answer = await gateway.request(route.path, { method: 'POST', headers: { 'content-type': 'application/json', ...route.headers }, body })
    checkTooLarge(t, gateway, answer, `${route.name}, with a content-length`)
  }
})

t.test('a streamed body (no content-length) past the limit is answered 413 the same way', async t => {
  const gateway = await startGateway(t)
  for (const route of ROUTES) {
    const chunk = Buffer.alloc(MiB, 'x')
    let sent = 0
    const stream = new ReadableStream<Uint8Array>({
      pull (controller) {
        if (sent >= OVERSIZED) return controller.close()
        controller.enqueue(sent === 0 ? Buffer.from('{"prompt":"') : chunk)
        sent += sent === 0 ? 1 : chunk.length
      }
    })
    const answer = await gateway.request(route.path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...route.headers },
      body: stream,
      duplex: 'half'
    } as RequestInit)
    checkTooLarge(t, gateway, answer, `${route.name}, chunked`)
  }
})

t.test('a declared body past what the gateway will discard is not read: 413, then the connection closes', async t => {
  const gateway = await startGateway(t)
  const socket = connect(Number(new URL(gateway.url).port), '127.0.0.1')
  await once(socket, 'connect')
  socket.write(`POST /queue/${ILLUSION} HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: ${1024 * MiB}\r\n\r\n{"prompt":"`)
  let received = ''
  socket.on('data', (chunk: Buffer) => { received += chunk.toString() })
  socket.on('error', () => {})
  const started = Date.now()
  await once(socket, 'close')
  t.match(received, /^HTTP\/1\.1 413 /, 'the 413 arrives')
  t.match(received, /"code":"BODY_TOO_LARGE"/)
  t.ok(Date.now() - started < 5000, 'and the connection is closed without waiting for the gigabyte')
})
