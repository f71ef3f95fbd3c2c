import type { Budget, Policy, Tier } from '../identity/policy-file.js'
import type { Client } from '../identity/resolve-client.js'
import type { Period } from './utc-periods.js'

export type BudgetScope = 'client' | 'tier' | 'global'

/** One money limit that applies to a submit. */
export interface BudgetLimit {
  /** `client:day`, `tier:month`, `global:day`…: what refusals, headers and metrics name. */
  name: `${BudgetScope}:${Period}`
  scope: BudgetScope
  /** Whose spend it counts: `client:<client id>`, `tier:<tier>`, `global`. */
  subject: string
  period: Period
  limitMicros: number
}

export type BudgetsFor = (client: Pick<Client, 'id' | 'kind' | 'tier'>) => BudgetLimit[]

/**
 * The budgets of the policy that apply to a client, most specific first: its own (the key's
 * `budget`, else its tier's `clientBudget`; JWT subjects and IP clients use the tier's), its
 * tier's `tierBudget` (all its clients together), and the `globalBudget` of the whole fal account.
 */
export function createBudgetsFor (policy: Policy): BudgetsFor {
  const keyBudgets = new Map(policy.keys.map(key => [`key:${key.id}`, key.budget]))
  return function budgetsFor (client) {
    const tier = policy.tiers[client.tier] as Tier | undefined
    const own = (client.kind === 'key' ? keyBudgets.get(client.id) : undefined) ?? tier?.clientBudget
    return [
      ...limits('client', `client:${client.id}`, own),
      ...limits('tier', `tier:${client.tier}`, tier?.tierBudget),
      ...limits('global', 'global', policy.globalBudget)
    ]
  }
}

function limits (scope: BudgetScope, subject: string, budget: Budget | undefined): BudgetLimit[] {
  const found: BudgetLimit[] = []
  if (budget?.dayMicroUsd !== undefined) found.push({ name: `${scope}:day`, scope, subject, period: 'day', limitMicros: budget.dayMicroUsd })
  if (budget?.monthMicroUsd !== undefined) found.push({ name: `${scope}:month`, scope, subject, period: 'month', limitMicros: budget.monthMicroUsd })
  return found
}
