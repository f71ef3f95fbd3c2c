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
