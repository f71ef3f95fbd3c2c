import { randomUUID } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { startGateway } from '../helpers/gateway.js'
import { KEYS, signToken, writePolicyFile } from '../plugins/policy-fixture.js'
import { startCluster } from '../replicas/cluster.js'

const FLUX = 'fal-ai/flux/dev'

/** Spend as the submit path will record it: a reservation, confirmed, settled on its output. */
async function spend (app: FastifyInstance, clientId: string, tier: string, amounts: { charged?: number, reserved?: number }): Promise<void> {
  const { store } = app.spend
  const at = Date.now()
  if (amounts.charged !== undefined) {
    const intent = { reservationId: randomUUID(), clientId, tier, endpointId: FLUX, amountMicros: amounts.charged, budgets: [], at }
    await store.begin(intent)
    const requestId = randomUUID()
    await store.confirm({ intent, requestId })
    await store.settle({ requestId, actualMicros: amounts.charged })
  }
  if (amounts.reserved !== undefined) {
    await store.begin({ reservationId: randomUUID(), clientId, tier, endpointId: FLUX, amountMicros: amounts.reserved, budgets: [], at })
  }
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })

t.test('GET /v1/usage tells each client its own spend, reservations and remaining budget, and nobody else\'s', async t => {
  const gw = await startGateway(t, {
    env: {
      POLICY_FILE: writePolicyFile(t, {
        pro: { clientBudget: { dayMicroUsd: 100_000, monthMicroUsd: 2_000_000 } },
        anonymous: { clientBudget: { dayMicroUsd: 50_000 } },
        globalBudget: { dayMicroUsd: 150_000 }
      })
    }
  })
  await spend(gw.app, 'key:alice', 'pro', { charged: 25_000, reserved: 30_000 })
  await spend(gw.app, 'jwt:mallory', 'pro', { charged: 70_000 })

  const alice = await gw.request('/v1/usage', bearer(KEYS.alice))
  t.equal(alice.status, 200)
  const usage = alice.json()
  t.match(usage, { client: 'key:alice', tier: 'pro', currency: 'USD' })
  const [day, month] = usage.periods
  // Today everyone together has used 125,000 of the global 150,000: 25,000 is left for anyone.
  t.match(day, { period: 'day', charged_micro_usd: 25_000, reserved_micro_usd: 30_000, limit_micro_usd: 100_000, remaining_micro_usd: 25_000 })
  t.match(month, { period: 'month', charged_micro_usd: 25_000, reserved_micro_usd: 30_000, limit_micro_usd: 2_000_000, remaining_micro_usd: 1_945_000 })
  t.equal(Date.parse(day.resets_at) % 86_400_000, 0, 'the day resets at UTC midnight')
  t.ok(Date.parse(day.resets_at) > Date.now())

  const bob = (await gw.request('/v1/usage', bearer(KEYS.bob))).json()
  t.match(bob.periods[0], { charged_micro_usd: 0, reserved_micro_usd: 0, limit_micro_usd: 100_000, remaining_micro_usd: 25_000 }, 'bob, in the same tier, sees only his own spend, bounded by the global budget')
  t.notMatch(JSON.stringify(bob), /alice|mallory/)

  const mallory = (await gw.request('/v1/usage', bearer(await signToken('mallory', { claims: { tier: 'pro' } })))).json()
  t.match(mallory, { client: 'jwt:mallory', periods: [{ charged_micro_usd: 70_000, remaining_micro_usd: 25_000 }, { remaining_micro_usd: 1_930_000 }] }, 'a JWT subject is a client of its own')

  const anonymous = (await gw.request('/v1/usage')).json()
  t.match(anonymous, { client: 'ip:127.0.0.1', tier: 'anonymous', periods: [{ charged_micro_usd: 0, limit_micro_usd: 50_000, remaining_micro_usd: 25_000 }, { limit_micro_usd: null, remaining_micro_usd: null }] }, 'no budget for the month: no limit')

  for (const query of ['?client=key:alice', '?client_id=key%3Aalice', '?subject=alice']) {
    const probe = await gw.request(`/v1/usage${query}`, bearer(KEYS.bob))
    t.equal(probe.status, 422, `${query} is refused`)
    t.notMatch(probe.text, /25000|30000|70000/, 'and tells nothing')
  }
  t.equal((await gw.request('/v1/usage', bearer('gw_not-a-key-0123456789abcdefghijklm'))).status, 401, 'a bad credential is refused, never anonymous')
})

t.test('GET /v1/usage on another replica sees the same money through Redis', async t => {
  const { gateways: [a, b] } = await startCluster(t, { env: { POLICY_FILE: writePolicyFile(t, { pro: { clientBudget: { dayMicroUsd: 100_000 } } }) } })
  await spend(a!.app, 'key:alice', 'pro', { charged: 40_000, reserved: 10_000 })
  const seen = (await b!.request('/v1/usage', bearer(KEYS.alice))).json()
  t.match(seen.periods[0], { charged_micro_usd: 40_000, reserved_micro_usd: 10_000, remaining_micro_usd: 50_000 })
})
