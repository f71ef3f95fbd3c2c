import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startGateway } from '../helpers/gateway.js'

const METRICS_TOKEN = 'metrics-token-for-tests-0123'

t.test('spend, reservations and budget refusals are exported per tier, model and budget', async t => {
  const gw = await startGateway(t, { env: { METRICS_TOKEN } })
  const { store } = gw.app.spend
  const at = Date.now()
  const budgets = [{ name: 'client:day' as const, scope: 'client' as const, subject: 'client:key:acme', period: 'day' as const, limitMicros: 50_000 }]
  const job = { reservationId: randomUUID(), clientId: 'key:acme', tier: 'pro', endpointId: 'fal-ai/flux/dev', amountMicros: 40_000, budgets, at }
  t.match(await store.begin(job), { outcome: 'reserved' })
  t.match(await store.begin({ ...job, reservationId: randomUUID() }), { outcome: 'refused' })
  await store.confirm({ intent: job, requestId: 'req-metrics' })
  await store.settle({ requestId: 'req-metrics', actualMicros: 25_000 })
  const lost = { ...job, reservationId: randomUUID(), budgets: [] }
  await store.begin(lost)
  await store.sweep({ now: at + gw.config.upstreamTimeouts.submit + 5_000 })

  const metrics = (await gw.request('/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).text
  const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(metrics)?.[1])
  const labels = '{tier="pro",model="fal-ai/flux/dev"}'
  t.equal(value(`fal_gateway_reserved_micro_usd_total${labels}`), 80_000, 'two reservations of $0.04')
  t.equal(value(`fal_gateway_unreserved_micro_usd_total${labels}`), 80_000, 'both ended')
  t.equal(value(`fal_gateway_spend_micro_usd_total${labels}`), 65_000, 'settled at $0.025, the unconfirmed one charged in full')
  t.equal(value('fal_gateway_budget_refusals_total{budget="client:day"}'), 1)
  t.equal(value('fal_gateway_reservation_events_total{event="expire",tier="pro",model="fal-ai/flux/dev"}'), 1)
  t.equal(value('fal_gateway_pending_confirmations'), 0)
})
