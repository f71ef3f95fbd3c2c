import t from 'tap'
import { loadPolicyFile, parsePolicy } from '../../src/identity/policy-file.js'
import { createBudgetsFor } from '../../src/spend/budget-limits.js'
import { budgetExceeded, budgetHeaders } from '../../src/spend/budget-headers.js'
import { periodEnd } from '../../src/spend/utc-periods.js'

const rate = { max: 10, windowMs: 60_000 }
const tier = (extra: object = {}) => ({ submit: rate, poll: rate, upload: rate, maxInFlight: 2, dailySubmitQuota: 100, ...extra })
const KEY_HASH = 'a'.repeat(64)

const policy = parsePolicy({
  anonymous: { enabled: true, tier: 'anonymous' },
  tiers: {
    anonymous: tier({ clientBudget: { dayMicroUsd: 100_000 } }),
    pro: tier({ clientBudget: { dayMicroUsd: 5_000_000, monthMicroUsd: 50_000_000 }, tierBudget: { monthMicroUsd: 500_000_000 } })
  },
  keys: [
    { id: 'acme', sha256: KEY_HASH, tier: 'pro', budget: { dayMicroUsd: 20_000_000 } },
    { id: 'plain', sha256: 'b'.repeat(64), tier: 'pro' }
  ],
  globalBudget: { dayMicroUsd: 200_000_000, monthMicroUsd: 3_000_000_000 }
})
const budgetsFor = createBudgetsFor(policy)

t.test('a client gets its own budget, its tier\'s and the global one, most specific first', async t => {
  t.same(budgetsFor({ id: 'ip:203.0.113.7', kind: 'anonymous', tier: 'anonymous' }).map(b => [b.name, b.subject, b.limitMicros]), [
    ['client:day', 'client:ip:203.0.113.7', 100_000],
    ['global:day', 'global', 200_000_000],
    ['global:month', 'global', 3_000_000_000]
  ])
  t.same(budgetsFor({ id: 'key:acme', kind: 'key', tier: 'pro' }).map(b => [b.name, b.subject, b.limitMicros]), [
    ['client:day', 'client:key:acme', 20_000_000],
    ['tier:month', 'tier:pro', 500_000_000],
    ['global:day', 'global', 200_000_000],
    ['global:month', 'global', 3_000_000_000]
  ], 'the key\'s own budget replaces its tier\'s client budget wholesale')
  t.same(budgetsFor({ id: 'key:plain', kind: 'key', tier: 'pro' }).slice(0, 2).map(b => [b.name, b.limitMicros]), [['client:day', 5_000_000], ['client:month', 50_000_000]])
  t.same(budgetsFor({ id: 'jwt:user-42', kind: 'jwt', tier: 'pro' })[0], { name: 'client:day', scope: 'client', subject: 'client:jwt:user-42', period: 'day', limitMicros: 5_000_000 }, 'a JWT subject is a client of its tier')
})

t.test('a policy without budgets has none; budgets must be whole non-negative micro-USD', async t => {
  const bare = parsePolicy({ anonymous: { enabled: true, tier: 'anonymous' }, tiers: { anonymous: tier() } })
  t.same(createBudgetsFor(bare)({ id: 'ip:1.2.3.4', kind: 'anonymous', tier: 'anonymous' }), [])
  for (const budget of [{ dayMicroUsd: 0.5 }, { dayMicroUsd: -1 }, { weekMicroUsd: 1 }, { dayMicroUsd: '100' }]) {
    t.throws(() => parsePolicy({ anonymous: { enabled: true, tier: 'anonymous' }, tiers: { anonymous: tier() }, globalBudget: budget }), /globalBudget/, JSON.stringify(budget))
  }
})

t.test('X-Budget-Remaining and X-Budget-Reset follow the tightest budget', async t => {
  const now = Date.UTC(2027, 4, 14, 23, 0)
  const [clientDay, , globalDay, globalMonth] = budgetsFor({ id: 'key:acme', kind: 'key', tier: 'pro' })
  const standing = (budget: typeof clientDay, remainingMicros: number) => ({ budget: budget!, usedMicros: budget!.limitMicros - remainingMicros, remainingMicros, resetAt: periodEnd(budget!.period, now) })
  t.same(budgetHeaders([], now), {})
  t.same(budgetHeaders([standing(clientDay, 75_000), standing(globalDay, 9_000_000)], now), { 'x-budget-remaining': '75000', 'x-budget-reset': '3600' })
  t.same(budgetHeaders([standing(globalDay, 0), standing(globalMonth, 0)], now), { 'x-budget-remaining': '0', 'x-budget-reset': String((periodEnd('month', now) - now) / 1000) }, 'on a tie, the later reset')

  const refusal = budgetExceeded(standing(clientDay, 5_000), 25_000, now)
  t.match(refusal, { statusCode: 429, code: 'BUDGET_EXCEEDED', retryAfterSeconds: 3600 })
  t.equal(refusal.message, 'Budget client:day would be exceeded: $0.005 of $20 remains and this job costs $0.025; it resets in 3600 seconds')
})

t.test('the documented policy example carries budgets at every level', async t => {
  const example = loadPolicyFile(new URL('../../policy.example.json', import.meta.url).pathname)
  t.same(createBudgetsFor(example)({ id: 'key:acme-web', kind: 'key', tier: 'pro' }).map(b => `${b.name}=${b.limitMicros}`),
    ['client:day=20000000', 'tier:month=500000000', 'global:day=50000000', 'global:month=1000000000'])
})
