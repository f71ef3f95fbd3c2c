import t, { type Test } from 'tap'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { FAL_OPERATION, checkFailure, ownedRequest, perform, startFaultGateway, type Call } from '../faults/fault-client.js'

const CALLS: Call[] = [
  'submit', 'cancel', 'status', 'result', 'stream',
  'proxy-submit', 'proxy-cancel', 'proxy-status', 'proxy-result', 'proxy-stream', 'proxy-upload'
]

interface Received { method: string, url: string, authorization?: string, body: string }

/** Another host, where a redirect from "fal" points: it answers like fal would, and records all it receives. */
async function startOtherHost (t: Test): Promise<{ url: string, received: Received[] }> {
  const received: Received[] = []
  const server = createServer((request, response) => {
    let body = ''
    request.setEncoding('utf8')
    request.on('data', (chunk: string) => { body += chunk })
    request.on('end', () => {
      received.push({ method: request.method ?? '', url: request.url ?? '', authorization: request.headers.authorization, body })
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ request_id: '00000000-0000-4000-8000-000000000000', status: 'COMPLETED' }))
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => server.close(() => { resolve() })))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received }
}

t.test('a 307 from fal is never followed: 502 UPSTREAM_ERROR, and nothing reaches the other host', async t => {
  const other = await startOtherHost(t)
  // One attempt per call, so the count below says the redirect was not retried either.
  const gateway = await startFaultGateway(t, { UPSTREAM_RETRIES: '0', BREAKER_VOLUME_THRESHOLD: '100000' })
  for (const call of CALLS) {
    const requestId = await ownedRequest(gateway)
    gateway.emulator.resetCalls()
    gateway.emulator.faults.set({ mode: 'redirect', location: `${other.url}/steal${call}`, operations: [FAL_OPERATION[call]] })
    try {
      const answer = await perform(gateway, call, requestId)
      checkFailure(t, gateway, answer, { status: 502, code: 'UPSTREAM_ERROR' }, `307 on ${call}`)
      t.notOk(answer.text.includes(other.url), `${call}: the redirect's target is not named to the client`)
    } finally {
      gateway.emulator.faults.clear()
    }
    t.equal(gateway.emulator.callsOf(FAL_OPERATION[call]).length, 1, `${call}: fal was called once`)
    t.same(other.received, [], `${call}: nothing reached the other host`)
  }
  t.ok(gateway.logs.some(line => line.includes('a redirect, which is never followed') && line.includes('/stealsubmit')),
    'the operator sees the refused redirect and where it pointed')
})
