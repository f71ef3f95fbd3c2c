import t from 'tap'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Agent } from 'undici'
import { Deadline } from '../../src/upstream/deadline.js'
import { createFalCredentials } from '../../src/upstream/fal-credentials.js'
import { createFalEndpoints } from '../../src/upstream/fal-endpoints.js'
import { FalFailure } from '../../src/upstream/fal-failure.js'
import { createFalTransport } from '../../src/upstream/fal-transport.js'

// Generous: "answered at its deadline" against "answered when the connection came free" is what counts.
const DEADLINE_MS = 300
const BOUND_MS = 5000

t.test('a poll whose deadline passes while it waits for a connection is answered then, not when one comes free', async t => {
  // "fal" holds the first poll until the test lets it go; with one connection the second must wait.
  const held: ServerResponse[] = []
  const server = createServer((request, response) => {
    if (request.url?.includes('/first/') === true) {
      held.push(response)
      return
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"IN_QUEUE"}')
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>(resolve => { server.closeAllConnections(); server.close(() => { resolve() }) }))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const pool = new Agent({ connections: 1 })
  t.teardown(() => pool.close())
  const transport = createFalTransport({ credentials: createFalCredentials('key-id:key-secret'), endpoints: createFalEndpoints(url, url, url), pool })

  const first = transport.requestWhole({ host: 'queue', method: 'GET', path: '/fal-ai/x/requests/first/status' }, new Deadline(60_000))
  while (held.length === 0) await new Promise(resolve => setTimeout(resolve, 10))

  const started = performance.now()
  const second = await transport.requestWhole({ host: 'queue', method: 'GET', path: '/fal-ai/x/requests/second/status' }, new Deadline(DEADLINE_MS)).then(() => undefined, (error: unknown) => error)
  const waited = performance.now() - started
  t.ok(second instanceof FalFailure && second.outcome.kind === 'timeout', 'the waiting poll fails as a timeout')
  t.ok(waited < BOUND_MS, `and is answered at its deadline (${waited.toFixed(0)} ms), while the first poll still holds the connection`)
  t.equal(held.length, 1, 'the waiting poll never reached fal')

  held[0]?.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"COMPLETED"}')
  const answer = await first
  t.equal(answer.text, '{"status":"COMPLETED"}', 'the first poll gets its answer once fal gives it')
  const third = await transport.requestWhole({ host: 'queue', method: 'GET', path: '/fal-ai/x/requests/third/status' }, new Deadline(60_000))
  t.equal(third.statusCode, 200, 'and the connection serves the next poll: the abandoned one left nothing behind')
})
