import { readFileSync } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'

const CountSchema = Type.Integer({ minimum: 0 })

// Every rate is a fixed window: at most `max` requests per `windowMs` milliseconds.
export const RateSchema = Type.Object({
  max: Type.Integer({ minimum: 1 }),
  windowMs: Type.Integer({ minimum: 1000 })
}, { additionalProperties: false })
export type Rate = Static<typeof RateSchema>

// Money limits per UTC day and per UTC month, in micro-USD (1 USD = 1,000,000); omitted: no limit.
export const BudgetSchema = Type.Object({
  dayMicroUsd: Type.Optional(Type.Integer({ minimum: 0 })),
  monthMicroUsd: Type.Optional(Type.Integer({ minimum: 0 }))
}, { additionalProperties: false })
export type Budget = Static<typeof BudgetSchema>

export const TierSchema = Type.Object({
  submit: RateSchema,
  poll: RateSchema,
  upload: RateSchema,
  maxInFlight: CountSchema,
  dailySubmitQuota: CountSchema,
  // What each client of the tier may spend, and what all of them together may.
  clientBudget: Type.Optional(BudgetSchema),
  tierBudget: Type.Optional(BudgetSchema),
  // Omitted means every model in the registry.
  models: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { uniqueItems: true }))
}, { additionalProperties: false })
export type Tier = Static<typeof TierSchema>

const NameSchema = Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' })

export const ClientKeyEntrySchema = Type.Object({
  id: NameSchema,
  sha256: Type.String({ pattern: '^[0-9a-fA-F]{64}$' }),
  tier: Type.String(),
  revoked: Type.Optional(Type.Boolean()),
  // Replaces the tier's clientBudget for this key.
  budget: Type.Optional(BudgetSchema)
}, { additionalProperties: false })
export type ClientKeyEntry = Static<typeof ClientKeyEntrySchema>

export const JwtPolicySchema = Type.Object({
  // Exactly one of `secret` (HS256) and `jwksUrl` (asymmetric keys fetched from the issuer).
  secret: Type.Optional(Type.String({ minLength: 32 })),
  jwksUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  issuer: Type.String({ minLength: 1 }),
  audience: Type.String({ minLength: 1 }),
  tierClaim: Type.String({ minLength: 1, default: 'tier' }),
  defaultTier: Type.String()
}, { additionalProperties: false })
export type JwtPolicy = Static<typeof JwtPolicySchema>

export const PolicySchema = Type.Object({
  anonymous: Type.Object({
    enabled: Type.Boolean(),
    tier: Type.String()
  }, { additionalProperties: false }),
  tiers: Type.Record(NameSchema, TierSchema, { additionalProperties: false }),
  keys: Type.Array(ClientKeyEntrySchema, { default: [] }),
  jwt: Type.Optional(JwtPolicySchema),
  // The whole fal account, every client together: the last line of defence.
  globalBudget: Type.Optional(BudgetSchema)
}, { additionalProperties: false })
export type Policy = Static<typeof PolicySchema>

/** Validates an already-parsed policy; `source` names it in error messages. */
export function parsePolicy (value: unknown, source = 'policy'): Policy {
  const withDefaults = Value.Default(PolicySchema, structuredClone(value))
  const error = Value.Errors(PolicySchema, withDefaults).First()
  if (error !== undefined) {
    throw new Error(`${source}: ${error.path || '/'}: ${error.message}`)
  }
  const policy = withDefaults as Policy
  checkReferences(policy, source)
  for (const key of policy.keys) key.sha256 = key.sha256.toLowerCase()
  return policy
}

export function loadPolicyFile (path: string): Policy {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(path, 'utf8'))
  } catch (cause) {
    throw new Error(`policy file ${path}: ${(cause as Error).message}`, { cause })
  }
  return parsePolicy(value, `policy file ${path}`)
}

export function isModelAllowed (tier: Tier, modelId: string): boolean {
  return tier.models === undefined || tier.models.includes(modelId)
}

function checkReferences (policy: Policy, source: string): void {
  const fail = (path: string, message: string): never => {
    throw new Error(`${source}: ${path}: ${message}`)
  }
  const tierExists = (name: string) => Object.hasOwn(policy.tiers, name)
  if (!tierExists(policy.anonymous.tier)) fail('/anonymous/tier', `unknown tier "${policy.anonymous.tier}"`)
  const ids = new Set<string>()
  const digests = new Set<string>()
  policy.keys.forEach((key, i) => {
    if (!tierExists(key.tier)) fail(`/keys/${i}/tier`, `unknown tier "${key.tier}"`)
    if (ids.has(key.id)) fail(`/keys/${i}/id`, `duplicate id "${key.id}"`)
    if (digests.has(key.sha256.toLowerCase())) fail(`/keys/${i}/sha256`, 'duplicate key hash')
    ids.add(key.id)
    digests.add(key.sha256.toLowerCase())
  })
  const jwt = policy.jwt
  if (jwt === undefined) return
  if ((jwt.secret === undefined) === (jwt.jwksUrl === undefined)) fail('/jwt', 'set exactly one of "secret" and "jwksUrl"')
  if (!tierExists(jwt.defaultTier)) fail('/jwt/defaultTier', `unknown tier "${jwt.defaultTier}"`)
}
