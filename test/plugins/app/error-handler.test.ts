import t from 'tap'
import { startGateway } from '../../helpers/gateway.js'

t.test('an internal error with a code of its own still answers a generic 500', async t => {
  const gateway = await startGateway(t, {
    prepare: (app) => {
      app.get('/test-only/boom', async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:6379'), { code: 'ECONNREFUSED' })
      })
    }
  })
  const answer = await gateway.request('/test-only/boom')
  t.equal(answer.status, 500)
  t.same(answer.json(), { statusCode: 500, code: 'INTERNAL_ERROR', error: 'Internal Server Error', message: 'Something went wrong in the gateway' })
  t.notMatch(answer.text, /10\.1\.2\.3|ECONNREFUSED|6379/, 'nothing of the cause reaches the client')
  t.equal(answer.headers.get('x-content-type-options'), 'nosniff', 'error answers carry the API security headers')
})

t.test('a served model under a route it does not have is a wrong route, not an unknown model', async t => {
  const gateway = await startGateway(t)
  const answer = await gateway.request('/queue/fal-ai/layer-diffusion')
  t.equal(answer.status, 404)
  t.equal(answer.json().code, 'ROUTE_NOT_FOUND')
  const unknown = await gateway.request('/queue/fal-ai/flux/dev', { method: 'POST' })
  t.equal(unknown.json().code, 'MODEL_NOT_FOUND')
})
