import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { SignJWT, type JWTPayload } from 'jose'
import { hashClientKey } from '../../src/identity/client-keys.js'

export const JWT_SECRET = 'test-jwt-secret-of-at-least-32-characters!'
export const JWT_ISSUER = 'https://auth.example.test/'
export const JWT_AUDIENCE = 'fal-gateway'

/** Client keys as a browser app would hold them; the policy file stores only their hashes. */
export const KEYS = {
  alice: 'gw_alice-0123456789abcdefghijklmnop',
  bob: 'gw_bob-0123456789abcdefghijklmnopqr',
  carol: 'gw_carol-0123456789abcdefghijklmnop',
  revoked: 'gw_revoked-0123456789abcdefghijklm'
} as const

interface TierOptions {
  submitMax?: number
  pollMax?: number
  maxInFlight?: number
  dailySubmitQuota?: number
  models?: string[]
  /** Each client's money budget, `{ dayMicroUsd, monthMicroUsd }`. */
  clientBudget?: object
}

function tier (options: TierOptions = {}): Record<string, unknown> {
  return {
    submit: { max: options.submitMax ?? 1000, windowMs: 600_000 },
    poll: { max: options.pollMax ?? 10_000, windowMs: 600_000 },
    upload: { max: 100, windowMs: 600_000 },
    maxInFlight: options.maxInFlight ?? 1000,
    dailySubmitQuota: options.dailySubmitQuota ?? 100_000,
    ...(options.models === undefined ? {} : { models: options.models }),
    ...(options.clientBudget === undefined ? {} : { clientBudget: options.clientBudget })
  }
}

export interface PolicyOptions {
  anonymousEnabled?: boolean
  /** The `anonymous` tier (also every JWT without a tier claim). */
  anonymous?: TierOptions
  /** The `pro` tier: alice's and bob's, and JWTs claiming it. */
  pro?: TierOptions
  /** The `basic` tier: carol's. */
  basic?: TierOptions
  /** The whole account's money budget, `{ dayMicroUsd, monthMicroUsd }`. */
  globalBudget?: object
}

/**
 * Writes a policy file to a fresh temp directory (removed in teardown) and returns its path:
 * tiers `anonymous`, `basic` and `pro`, the four KEYS (one revoked), and HS256 JWTs.
 */
export function writePolicyFile (t: Test, options: PolicyOptions = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'falgw-policy-'))
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }) })
  const path = join(dir, 'policy.json')
  writeFileSync(path, JSON.stringify({
    anonymous: { enabled: options.anonymousEnabled ?? true, tier: 'anonymous' },
    tiers: { anonymous: tier(options.anonymous), basic: tier(options.basic), pro: tier(options.pro) },
    keys: [
      { id: 'alice', sha256: hashClientKey(KEYS.alice), tier: 'pro' },
      { id: 'bob', sha256: hashClientKey(KEYS.bob), tier: 'pro' },
      { id: 'carol', sha256: hashClientKey(KEYS.carol), tier: 'basic' },
      { id: 'gone', sha256: hashClientKey(KEYS.revoked), tier: 'pro', revoked: true }
    ],
    jwt: { secret: JWT_SECRET, issuer: JWT_ISSUER, audience: JWT_AUDIENCE, tierClaim: 'tier', defaultTier: 'anonymous' },
    ...(options.globalBudget === undefined ? {} : { globalBudget: options.globalBudget })
  }, null, 2))
  return path
}

export interface TokenOptions {
  secret?: string
  issuer?: string
  audience?: string
  /** Seconds from now; negative for an expired token. */
  expiresIn?: number
  claims?: JWTPayload
}

/** An HS256 token as the app's identity provider would issue it. */
export async function signToken (subject: string, options: TokenOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return await new SignJWT({ ...options.claims })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(subject)
    .setIssuer(options.issuer ?? JWT_ISSUER)
    .setAudience(options.audience ?? JWT_AUDIENCE)
    .setIssuedAt(now - 60)
    .setExpirationTime(now + (options.expiresIn ?? 600))
    .sign(new TextEncoder().encode(options.secret ?? JWT_SECRET))
}

/** An unsigned token (`alg: none`) with otherwise valid claims. */
export function unsignedToken (subject: string, claims: JWTPayload = {}): string {
  const now = Math.floor(Date.now() / 1000)
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: subject, iss: JWT_ISSUER, aud: JWT_AUDIENCE, iat: now, exp: now + 600, ...claims })}.`
}
