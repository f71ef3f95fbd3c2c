import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { startGateway } from '../helpers/gateway.js'
import { usageCsvLine } from '../../src/spend/usage-csv.js'
import { periodKey } from '../../src/spend/utc-periods.js'

const ADMIN_TOKEN = 'admin-token-for-tests-0123456789'
const admin = { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }

async function settle (app: FastifyInstance, clientId: string, endpointId: string, micros: number): Promise<string> {
  const intent = { reservationId: randomUUID(), clientId, tier: 'anonymous', endpointId, amountMicros: micros, budgets: [], at: Date.now() }
  await app.spend.store.begin(intent)
  const requestId = randomUUID()
  await app.spend.store.confirm({ intent, requestId })
  await app.spend.store.settle({ requestId, actualMicros: micros })
  return requestId
}

t.test('/admin/usage and its export answer 401 without the admin token', async t => {
  const gw = await startGateway(t, { env: { ADMIN_TOKEN } })
  for (const path of ['/admin/usage', '/admin/usage/export', '/admin/usage?period=month', '/admin/usage/export?period=day&key=2026-01-01']) {
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-0123456789abcdef' }, { authorization: ADMIN_TOKEN }, { authorization: `Basic ${ADMIN_TOKEN}` }]
    for (const headers of attempts) {
      const answer = await gw.request(path, { headers })
      t.equal(answer.status, 401, `${path} with ${JSON.stringify(headers)}`)
      t.equal(answer.json().code, 'ADMIN_UNAUTHORIZED')
    }
  }
  const unset = await startGateway(t)
  t.equal((await unset.request('/admin/usage', admin)).status, 401, 'without ADMIN_TOKEN configured nobody gets in')
})

t.test('/admin/usage lists spend per client, model and tier; the export streams the ledger as CSV', async t => {
  const gw = await startGateway(t, { env: { ADMIN_TOKEN } })
  const first = await settle(gw.app, 'ip:192.0.2.1', 'fal-ai/flux/dev', 100_000)
  await settle(gw.app, 'ip:192.0.2.1', 'fal-ai/layer-diffusion', 30_000)
  await settle(gw.app, 'key:acme', 'fal-ai/flux/dev', 25_000)
  await gw.app.spend.store.begin({ reservationId: randomUUID(), clientId: 'key:acme', tier: 'anonymous', endpointId: 'fal-ai/flux/dev', amountMicros: 5_000, budgets: [], at: Date.now() })

  const usage = await gw.request('/admin/usage', admin)
  t.equal(usage.status, 200)
  t.match(usage.json(), {
    period: 'day',
    key: periodKey('day', Date.now()),
    currency: 'USD',
    total: { charged_micro_usd: 155_000, reserved_micro_usd: 5_000 },
    clients: [
      { client: 'ip:192.0.2.1', charged_micro_usd: 130_000, reserved_micro_usd: 0 },
      { client: 'key:acme', charged_micro_usd: 25_000, reserved_micro_usd: 5_000 }
    ],
    models: [
      { model: 'fal-ai/flux/dev', charged_micro_usd: 125_000, reserved_micro_usd: 5_000 },
      { model: 'fal-ai/layer-diffusion', charged_micro_usd: 30_000 }
    ],
    tiers: [{ tier: 'anonymous', charged_micro_usd: 155_000 }],
    truncated: false
  })
  t.match((await gw.request('/admin/usage?period=month', admin)).json(), { period: 'month', key: periodKey('month', Date.now()), total: { charged_micro_usd: 155_000 } })
  t.match((await gw.request('/admin/usage?limit=1', admin)).json(), { clients: [{ client: 'ip:192.0.2.1' }], truncated: true })
  t.same((await gw.request('/admin/usage?period=day&key=2020-01-01', admin)).json().clients, [], 'a day with no spend')
  t.equal((await gw.request('/admin/usage?period=day&key=2026-02-30', admin)).status, 400, 'a day that does not exist')
  t.equal((await gw.request('/admin/usage?period=week', admin)).status, 422)

  const csv = await gw.request('/admin/usage/export', admin)
  t.equal(csv.status, 200)
  t.match(csv.headers.get('content-type'), /^text\/csv/)
  t.match(csv.headers.get('content-disposition'), /attachment; filename="fal-gateway-usage-\d{4}-\d{2}-\d{2}\.csv"/)
  const lines = csv.text.trim().split('\n')
  t.equal(lines[0], 'time,event,client,tier,model,request_id,reservation_id,reserved_micro_usd,charged_micro_usd')
  t.equal(lines.length, 1 + 3 * 2 + 1, 'a reserve and a settle per job, and the open reservation')
  t.match(lines.find(line => line.includes(first) && line.includes(',settle,')), /,ip:192\.0\.2\.1,anonymous,fal-ai\/flux\/dev,.*,-100000,100000$/)
  const charged = lines.slice(1).reduce((sum, line) => sum + Number(line.split(',').at(-1)), 0)
  t.equal(charged, 155_000, 'the charges in the CSV add up to the total')
  t.equal((await gw.request('/admin/usage/export?period=month&key=2020-01', admin)).text.trim().split('\n').length, 1, 'an empty period is the header alone')
})

t.test('CSV fields are quoted when they must be and never start a spreadsheet formula', async t => {
  const line = usageCsvLine({ at: 0, event: 'settle', reservationId: 'r', requestId: 'q', clientId: 'jwt:a,"b"', tier: '=HYPERLINK("x")', endpointId: '-cmd', reservedDeltaMicros: -5, chargedDeltaMicros: 5 })
  t.equal(line, '1970-01-01T00:00:00.000Z,settle,"jwt:a,""b""","\'=HYPERLINK(""x"")",\'-cmd,q,r,-5,5\n')
})
