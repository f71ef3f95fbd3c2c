import { connect, type Socket } from 'node:net'
import { once } from 'node:events'
import t from 'tap'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { ILLUSION, illusionInput, submit } from '../routes/queue/queue-client.js'

interface Cutoff { response: string, afterMs: number }

/** Opens a raw socket, writes `head` at once and then `drip` one byte every `everyMs`; resolves when the server closes it. */
async function slowDrip (gateway: TestGateway, head: string, drip: string, everyMs: number): Promise<Cutoff> {
  const { port } = new URL(gateway.url)
  const socket: Socket = connect(Number(port), '127.0.0.1')
  await once(socket, 'connect')
  const startedAt = Date.now()
  let response = ''
  socket.on('data', chunk => { response += String(chunk) })
  socket.on('error', () => {})
  socket.write(head)
  let index = 0
  const timer = setInterval(() => {
    if (index < drip.length && socket.writable) socket.write(drip[index++] as string)
  }, everyMs)
  await once(socket, 'close')
  clearInterval(timer)
  return { response, afterMs: Date.now() - startedAt }
}

const limits = { HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000' }
/** Far below how long the drips last (20 s and more), far above the timeouts even on a busy machine. */
const CUT_BOUND_MS = 10_000

t.test('a client dripping its headers is cut off with 408 after HEADERS_TIMEOUT_MS', async t => {
  const gateway = await startGateway(t, { env: limits })
  const cut = await slowDrip(gateway, `GET /queue/${ILLUSION}/requests/x/status HTTP/1.1\r\nhost: gateway\r\n`, 'x-slow: ' + 'a'.repeat(100), 200)
  t.match(cut.response, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout')
  t.ok(cut.afterMs < CUT_BOUND_MS, `cut off after ${cut.afterMs} ms, not after the whole drip`)
  t.equal(gateway.emulator.calls.length, 0, 'fal received nothing')
})

t.test('a client dripping its body is cut off with 408 after REQUEST_TIMEOUT_MS', async t => {
  const gateway = await startGateway(t, { env: limits })
  const body = JSON.stringify(illusionInput)
  const head = `POST /queue/${ILLUSION} HTTP/1.1\r\nhost: gateway\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`
  const cut = await slowDrip(gateway, head, body, 400)
  t.match(cut.response, /^HTTP\/1\.1 408/, 'answered 408 Request Timeout')
  t.ok(cut.afterMs < CUT_BOUND_MS, `cut off after ${cut.afterMs} ms, not after the whole drip`)
  t.equal(gateway.emulator.callsOf('submit').length, 0, 'fal received nothing')
})

t.test('an idle keep-alive connection is closed after KEEP_ALIVE_TIMEOUT_MS', async t => {
  const gateway = await startGateway(t, { env: { KEEP_ALIVE_TIMEOUT_MS: '300' } })
  t.equal(gateway.app.server.keepAliveTimeout, 300)
  const cut = await slowDrip(gateway, 'GET /healthz HTTP/1.1\r\nhost: gateway\r\n\r\n', '', 1000)
  t.match(cut.response, /^HTTP\/1\.1 200/)
  t.ok(cut.afterMs >= 250 && cut.afterMs < CUT_BOUND_MS, `closed after ${cut.afterMs} ms of idleness`)
})

t.test('an oversized body gets 413 BODY_TOO_LARGE in the gateway\'s shape', async t => {
  const gateway = await startGateway(t, { env: { BODY_LIMIT: '2048' } })
  const answer = await submit(gateway, ILLUSION, { ...illusionInput, prompt: 'x'.repeat(4096) })
  t.equal(answer.status, 413)
  t.match(answer.json(), { statusCode: 413, code: 'BODY_TOO_LARGE', error: 'Payload Too Large', message: /2048/ })
  t.equal(gateway.emulator.callsOf('submit').length, 0, 'fal received nothing')
})

t.test('security headers: nothing may load from API answers; /docs keeps working', async t => {
  const gateway = await startGateway(t)
  const api = await gateway.request('/healthz')
  t.equal(api.headers.get('content-security-policy'), "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'")
  t.equal(api.headers.get('x-content-type-options'), 'nosniff')
  t.equal(api.headers.get('x-frame-options'), 'DENY', 'nothing may frame an API answer')
  t.ok(api.headers.get('strict-transport-security'), 'HSTS is set')
  t.equal(api.headers.get('cross-origin-resource-policy'), 'cross-origin', 'browser apps on other origins can read answers')

  const docs = await gateway.request('/docs/')
  t.equal(docs.status, 200, '/docs answers')
  const csp = docs.headers.get('content-security-policy') ?? ''
  t.match(csp, /script-src 'self'/, '/docs may run its own scripts')
  t.match(csp, /style-src 'self' 'unsafe-inline'/, 'and style itself')
  const script = docs.text.match(/src="\.\/([^"]+\.js)"/)?.[1]
  t.ok(script !== undefined, 'the page references its script')
  t.equal((await gateway.request(`/docs/${script as string}`)).status, 200, 'which is served')
})
