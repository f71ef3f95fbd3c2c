import { readFileSync } from 'node:fs'
import { Type, type Static } from '@sinclair/typebox'
import { Value } from '@sinclair/typebox/value'
import { ConfigError } from '../config.js'
import { appIdOf } from '../upstream/endpoint-id.js'

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

/** Problems reported past this many are counted, not listed, so the message stays one line. */
const MAX_LISTED_PROBLEMS = 20

/**
 * A policy that cannot be used: every problem found (a JSON pointer into the document and what
 * was expected there) in one message, so an operator fixes the file in one go. A `ConfigError`,
 * so start-up prints it as one line and exits non-zero, like a bad setting.
 */
export class PolicyError extends ConfigError {
  override name = 'PolicyError'
  constructor (readonly source: string, readonly problems: readonly string[]) {
    const listed = problems.slice(0, MAX_LISTED_PROBLEMS)
    const more = problems.length - listed.length
    super(`Invalid ${source}: ${listed.join('; ')}${more > 0 ? `; and ${more} more` : ''}`)
  }
}

/** Validates an already-parsed policy; `source` names it in error messages. */
export function parsePolicy (value: unknown, source = 'policy'): Policy {
  const withDefaults = Value.Default(PolicySchema, structuredClone(value))
  const schemaProblems = new Map<string, string>()
  for (const error of Value.Errors(PolicySchema, withDefaults)) {
    const pointer = error.path || '/'
    // TypeBox may report one place twice (a missing property is also of the wrong type): the first says it.
    if (!schemaProblems.has(pointer)) schemaProblems.set(pointer, `${pointer}: ${error.message}`)
  }
  if (schemaProblems.size > 0) throw new PolicyError(source, [...schemaProblems.values()])
  const policy = withDefaults as Policy
  const referenceProblems = checkReferences(policy)
  if (referenceProblems.length > 0) throw new PolicyError(source, referenceProblems)
  for (const key of policy.keys) key.sha256 = key.sha256.toLowerCase()
  return policy
}

/** Reads and validates the POLICY_FILE; a file that is missing, unreadable or not JSON is a PolicyError too. */
export function loadPolicyFile (path: string): Policy {
  const source = `POLICY_FILE ${path}`
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new PolicyError(source, [unreadable(cause)])
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (cause) {
    throw new PolicyError(source, [`not JSON: ${jsonProblem(text, cause)}`])
  }
  return parsePolicy(value, source)
}

function unreadable (cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code
  if (code === 'ENOENT') return 'no such file'
  if (code === 'EACCES') return 'permission denied'
  if (code === 'EISDIR') return 'a directory, not a file'
  return `cannot be read (${code ?? String(cause)})`
}

/** V8's JSON message, with the line and column of the offending character when it gives only an offset. */
function jsonProblem (text: string, cause: unknown): string {
  const message = (cause as Error).message
  const offset = /at position (\d+)/.exec(message)?.[1]
  if (offset === undefined || /line \d+/.test(message)) return message
  const before = text.slice(0, Number(offset)).split('\n')
  return `${message} (line ${before.length}, column ${(before.at(-1) as string).length + 1})`
}

/** A tier's allowlist names endpoints; calls about a request name their app, allowed with any of its endpoints. */
export function isModelAllowed (tier: Tier, modelId: string): boolean {
  return tier.models === undefined || tier.models.includes(modelId) || tier.models.some(allowed => appIdOf(allowed) === modelId)
}

/** What the schema cannot say: names that must refer to a tier, ids and hashes that must be unique. */
function checkReferences (policy: Policy): string[] {
  const problems: string[] = []
  const fail = (path: string, message: string): void => { problems.push(`${path}: ${message}`) }
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
  if (jwt === undefined) return problems
  if ((jwt.secret === undefined) === (jwt.jwksUrl === undefined)) fail('/jwt', 'set exactly one of "secret" and "jwksUrl"')
  if (!tierExists(jwt.defaultTier)) fail('/jwt/defaultTier', `unknown tier "${jwt.defaultTier}"`)
  return problems
}
