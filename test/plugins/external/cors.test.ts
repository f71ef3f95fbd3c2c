import t from 'tap'
import { startGateway } from '../../helpers/gateway.js'

const ALLOWED = 'https://app.example.com'

t.test('only listed origins get CORS headers; others, look-alikes and null get none', async t => {
  const gateway = await startGateway(t, { env: { CORS_ORIGINS: `${ALLOWED},http://localhost:5173` } })
  const preflight = (origin: string) => gateway.request('/api/fal/proxy', {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,x-fal-target-url,authorization,x-fal-queue-priority'
    }
  })

  const allowed = await preflight(ALLOWED)
  t.equal(allowed.headers.get('access-control-allow-origin'), ALLOWED, 'the listed origin, exactly')
  const allowedHeaders = allowed.headers.get('access-control-allow-headers') ?? ''
  for (const header of ['content-type', 'x-fal-target-url', 'authorization', 'x-fal-queue-priority']) {
    t.match(allowedHeaders, header, `the client may send ${header}`)
  }

  for (const origin of ['https://evil.example.com', 'https://app.example.com.evil.com', 'https://evilapp.example.com', 'http://app.example.com', 'null']) {
    const answer = await preflight(origin)
    t.equal(answer.headers.get('access-control-allow-origin'), null, `${origin}: no CORS headers`)
  }

  const simple = await gateway.request('/healthz', { headers: { origin: ALLOWED } })
  t.equal(simple.headers.get('access-control-allow-origin'), ALLOWED)
  t.match(simple.headers.get('access-control-expose-headers'), /x-fal-request-id/, 'x-fal-request-id is readable by the page')
  t.equal(simple.headers.get('vary')?.toLowerCase().includes('origin'), true, 'caches keep answers per origin')
  t.equal(gateway.emulator.calls.length, 0)
})

t.test('with CORS_ORIGINS empty no origin is allowed', async t => {
  const gateway = await startGateway(t)
  const answer = await gateway.request('/healthz', { headers: { origin: ALLOWED } })
  t.equal(answer.headers.get('access-control-allow-origin'), null)
})

t.test('development allows any loopback origin, anchored; production keeps the exact list', async t => {
  const preflight = (gateway: Awaited<ReturnType<typeof startGateway>>, origin: string) => gateway.request('/api/fal/proxy', {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-fal-target-url' }
  })
  const development = await startGateway(t, { env: { NODE_ENV: 'development', CORS_ORIGINS: ALLOWED } })
  for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://localhost', 'http://localhost:3000', ALLOWED]) {
    t.equal((await preflight(development, origin)).headers.get('access-control-allow-origin'), origin, `development: ${origin} allowed`)
  }
  for (const origin of ['https://localhost:5173', 'http://localhost.evil.com', 'http://localhost:5173.evil.com', 'http://evil.com/http://localhost:1', 'http://127.0.0.1.nip.io:80', 'http://127.0.0.2:80', 'http://[::1]:5173', 'null']) {
    t.equal((await preflight(development, origin)).headers.get('access-control-allow-origin'), null, `development: ${origin} refused`)
  }

  const production = await startGateway(t, { env: { NODE_ENV: 'production', CORS_ORIGINS: ALLOWED } })
  t.equal((await preflight(production, 'http://localhost:5173')).headers.get('access-control-allow-origin'), null, 'production: a loopback origin not listed gets nothing')
  t.equal((await preflight(production, ALLOWED)).headers.get('access-control-allow-origin'), ALLOWED, 'production: the listed origin')
})
