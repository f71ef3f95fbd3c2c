import type { Config } from '../config.js'
import { loadPolicyFile, parsePolicy, type Policy } from './policy-file.js'

/**
 * The policy in force: the POLICY_FILE when one is given, else a single `anonymous` tier built
 * from the RATE_LIMIT_*, MAX_IN_FLIGHT and DAILY_SUBMIT_QUOTA settings.
 */
export function gatewayPolicy (config: Config): Policy {
  if (config.policyFile !== undefined) return loadPolicyFile(config.policyFile)
  return parsePolicy({
    anonymous: { enabled: config.defaultTier.anonymousEnabled, tier: 'anonymous' },
    tiers: {
      anonymous: {
        submit: config.rateLimits.submit,
        poll: config.rateLimits.poll,
        upload: config.rateLimits.upload,
        maxInFlight: config.defaultTier.maxInFlight,
        dailySubmitQuota: config.defaultTier.dailySubmitQuota
      }
    },
    keys: []
  }, 'settings')
}
