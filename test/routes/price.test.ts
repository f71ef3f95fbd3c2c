import t from 'tap'
import { json, startGateway } from '../helpers/gateway.js'
import { ILLUSION, LAYER, illusionInput, layerInput } from '../routes/queue/queue-client.js'

t.test('POST /v1/price quotes a submit exactly as the submit reserves it, and starts nothing', async t => {
  const gateway = await startGateway(t, { env: { CLIENT_BUDGET_DAY_MICRO_USD: '1000000' } })
  const layer = await gateway.request(`/v1/price?endpoint_id=${LAYER}`, json(layerInput))
  t.equal(layer.status, 200)
  t.same(layer.json(), { endpoint_id: LAYER, currency: 'USD', price_micro_usd: 30_000, unit: 'image', quantity: 1, estimated: false })
  const illusion = await gateway.request(`/v1/price?endpoint_id=${ILLUSION}`, json(illusionInput))
  t.match(illusion.json(), { price_micro_usd: 33_300, unit: 'compute_second', quantity: 30, estimated: true }, 'compute seconds: the PRICE_FALLBACK_UNITS estimate')
  t.equal(gateway.emulator.calls.length, 0, 'fal heard nothing')

  const submitted = await gateway.request(`/queue/${LAYER}`, json(layerInput))
  t.equal(submitted.headers.get('x-budget-remaining'), String(1_000_000 - 30_000), 'the submit reserved the quoted price')

  const invalid = await gateway.request(`/v1/price?endpoint_id=${LAYER}`, json({ num_inference_steps: 'many' }))
  t.equal(invalid.status, 422, 'invalid input is refused with field details')
  t.match(invalid.json(), { code: 'VALIDATION_FAILED' })
  const unknown = await gateway.request('/v1/price?endpoint_id=fal-ai/not-a-model', json({}))
  t.equal(unknown.status, 403, 'an endpoint the gateway does not serve has no price')
})
