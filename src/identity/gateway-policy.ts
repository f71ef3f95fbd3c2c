import type { Config } from '../config.js'
import { loadPolicyFile, parsePolicy, type Policy } from './policy-file.js'

/**
 * The policy in force: the POLICY_FILE when one is given, else a single `anonymous` tier built
 * from the RATE_LIMIT_*, MAX_IN_FLIGHT, DAILY_SUBMIT_QUOTA and CLIENT_BUDGET_* settings. The
 * GLOBAL_BUDGET_* settings apply unless the file has a `globalBudget` of its own: a cap on the
 * whole account is never dropped by adding a policy file.
 */
export function gatewayPolicy (config: Config): Policy {
  const { globalBudget, clientBudget } = config.spend
  const envGlobal = Object.keys(globalBudget).length > 0 ? { globalBudget } : {}
  if (config.policyFile !== undefined) return { ...envGlobal, ...loadPolicyFile(config.policyFile) }
  return parsePolicy({
    ...envGlobal,
    anonymous: { enabled: config.defaultTier.anonymousEnabled, tier: 'anonymous' },
    tiers: {
      anonymous: {
        submit: config.rateLimits.submit,
        poll: config.rateLimits.poll,
        upload: config.rateLimits.upload,
        maxInFlight: config.defaultTier.maxInFlight,
        dailySubmitQuota: config.defaultTier.dailySubmitQuota,
        ...(Object.keys(clientBudget).length > 0 ? { clientBudget } : {})
      }
    },
    keys: []
  }, 'settings')
}
