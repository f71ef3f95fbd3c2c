import t from 'tap'
import { startEmulator } from './start.js'

const ADMIN_KEY = 'admin-id:admin-secret'

t.test('billing events: one per completed request, at the app\'s unit price, for the admin key only', async t => {
  const { emulator, baseUrl, fal } = await startEmulator(t, { adminKey: ADMIN_KEY, queueMs: 20, processingMs: 250 })
  const events = async (ids: string[], key = ADMIN_KEY) => await fetch(`${baseUrl}/v1/models/billing-events?${ids.map(id => `request_id=${id}`).join('&')}`, { headers: { authorization: `Key ${key}` } })

  const layer = await fal.subscribe('fal-ai/layer-diffusion', { input: { prompt: 'a bottle' } })
  const illusion = await fal.subscribe('fal-ai/illusion-diffusion', { input: { prompt: 'a village', image_url: 'https://example.com/a.png' } })
  emulator.jobs.hold({ phase: 'IN_QUEUE' })
  const { request_id: queued } = await fal.queue.submit('fal-ai/layer-diffusion', { input: { prompt: 'waiting' } })
  const { request_id: cancelled } = await fal.queue.submit('fal-ai/layer-diffusion', { input: { prompt: 'cancelled' } })
  await fal.queue.cancel('fal-ai/layer-diffusion', { requestId: cancelled })

  const answer = await events([layer.requestId, illusion.requestId, queued, cancelled, 'no-such-request'])
  t.equal(answer.status, 200)
  const body = await answer.json() as { billing_events: Array<Record<string, unknown>>, has_more: boolean }
  t.match(body.billing_events, [
    { request_id: layer.requestId, endpoint_id: 'fal-ai/layer-diffusion', unit: 'image', unit_quantity: 1, cost_estimate_nano_usd: 30_000_000, cost_total: 0.03 },
    { request_id: illusion.requestId, endpoint_id: 'fal-ai/illusion-diffusion', unit: 'compute seconds', unit_quantity: 0.25, cost_estimate_nano_usd: 277_500 }
  ], 'completed jobs only: the queued and the cancelled one are not billed')
  t.equal(body.billing_events.length, 2)
  t.equal(body.has_more, false)

  t.equal((await events([layer.requestId], 'emulator-test-id:emulator-test-secret')).status, 403, 'an inference key cannot read billing')
  t.equal((await fetch(`${baseUrl}/v1/models/billing-events?request_id=${layer.requestId}`)).status, 401, 'no key, no billing')
  emulator.jobs.release({})
})
