import t from 'tap'
import type { TestGateway } from '../helpers/gateway.js'
import { startCluster } from '../replicas/cluster.js'
import { counter, deliver, submitJob, WEBHOOKS_ON } from './webhook-gateway.js'

t.test('with Redis unreachable a verified delivery is answered 503, so fal retries it later', async t => {
  const { gateways, redis } = await startCluster(t, { replicas: 1, env: WEBHOOKS_ON, emulator: { queueMs: 600_000 } })
  const gateway = gateways[0] as TestGateway
  const requestId = await submitJob(gateway)
  await redis?.stop()
  t.same(await deliver(gateway, requestId), [503])
  t.equal(await counter(gateway, 'fal_gateway_fal_webhooks_refused_total', { reason: 'store_unavailable' }), 1)
  t.equal(await counter(gateway, 'fal_gateway_fal_webhooks_accepted_total', { result: 'recorded' }), 0)
})
