import type { BudgetLimit } from './budget-limits.js'
import type { BudgetStanding } from './spend-store.js'
import { periodEnd } from './utc-periods.js'

/** Whether `amountMicros` more fits a budget already `usedMicros` into its limit. */
function fits (limitMicros: number, usedMicros: number, amountMicros: number): boolean {
  return usedMicros + amountMicros <= limitMicros
}

/** The standings of the budgets given what each has used, counting `addedMicros` in. */
export function standingsOf (budgets: BudgetLimit[], usedMicros: number[], addedMicros: number, at: number): BudgetStanding[] {
  return budgets.map((budget, i) => {
    const used = (usedMicros[i] ?? 0) + addedMicros
    return { budget, usedMicros: used, remainingMicros: Math.max(0, budget.limitMicros - used), resetAt: periodEnd(budget.period, at) }
  })
}

/**
 * The budget a refusal names: of those the submit would exceed, the one that resets last, so that
 * its Retry-After is a time at which every exceeded budget has started afresh.
 */
export function refusingBudget (standings: BudgetStanding[], amountMicros: number): BudgetStanding | undefined {
  let refusing: BudgetStanding | undefined
  for (const standing of standings) {
    if (fits(standing.budget.limitMicros, standing.usedMicros, amountMicros)) continue
    if (refusing === undefined || standing.resetAt > refusing.resetAt) refusing = standing
  }
  return refusing
}
