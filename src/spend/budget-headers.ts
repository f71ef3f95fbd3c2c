import { BudgetExceeded } from '../errors/gateway-errors.js'
import { formatUsd } from './money.js'
import type { BudgetStanding } from './spend-store.js'

/**
 * `X-Budget-Remaining` (micro-USD the client may still reserve) and `X-Budget-Reset` (seconds until
 * that budget's UTC period ends), for the tightest budget that applies: the one with least left,
 * the later reset on a tie. None when no budget applies.
 */
export function budgetHeaders (standings: BudgetStanding[], now: number): Record<string, string> {
  let tightest: BudgetStanding | undefined
  for (const standing of standings) {
    if (tightest === undefined || standing.remainingMicros < tightest.remainingMicros ||
      (standing.remainingMicros === tightest.remainingMicros && standing.resetAt > tightest.resetAt)) tightest = standing
  }
  if (tightest === undefined) return {}
  return { 'x-budget-remaining': String(tightest.remainingMicros), 'x-budget-reset': String(secondsUntil(tightest.resetAt, now)) }
}

/** The 429 for a submit the budget cannot take, with Retry-After until it resets. */
export function budgetExceeded (standing: BudgetStanding, priceMicros: number, now: number): InstanceType<typeof BudgetExceeded> {
  return new BudgetExceeded(secondsUntil(standing.resetAt, now), standing.budget.name, formatUsd(standing.remainingMicros), formatUsd(standing.budget.limitMicros), formatUsd(priceMicros))
}

function secondsUntil (at: number, now: number): number {
  return Math.max(1, Math.ceil((at - now) / 1000))
}
