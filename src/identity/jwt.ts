import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose'
import { IdentityProviderUnavailable, InvalidCredentials } from '../errors/gateway-errors.js'
import type { JwtPolicy } from './policy-file.js'

export interface VerifiedJwt {
  subject: string
  tier: string
}

export interface JwtVerifierOptions {
  /** Tier names the policy defines: a token naming any other tier is refused. */
  tiers: readonly string[]
  /** Deadline for fetching the JWKS (ms). */
  jwksTimeoutMs?: number
  /** Tolerated clock difference with the issuer (seconds). */
  clockToleranceSec?: number
}

export type JwtVerifier = (token: string) => Promise<VerifiedJwt>

// Pinning the algorithms per key source keeps `alg: none` out and stops an HS256 token signed with
// a public key from passing as an asymmetric one.
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']
const MAX_SUBJECT_LENGTH = 256

// jose errors that mean "this token is not acceptable"; any other failure (JWKS unreachable,
// timed out or malformed) is the identity provider's fault and must not read as a bad token.
const CREDENTIAL_ERRORS = new Set<string>([
  errors.JWTExpired.code,
  errors.JWTClaimValidationFailed.code,
  errors.JWTInvalid.code,
  errors.JWSInvalid.code,
  errors.JWSSignatureVerificationFailed.code,
  errors.JOSEAlgNotAllowed.code,
  errors.JOSENotSupported.code,
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code
])

export function createJwtVerifier (policy: JwtPolicy, options: JwtVerifierOptions): JwtVerifier {
  const { key, algorithms } = keySource(policy, options)
  const tiers = new Set(options.tiers)

  return async (token) => {
    let payload: JWTPayload
    try {
      ({ payload } = await jwtVerify(token, key, {
        algorithms,
        issuer: policy.issuer,
        audience: policy.audience,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockToleranceSec ?? 5
      }))
    } catch (err) {
      if (err instanceof errors.JOSEError && CREDENTIAL_ERRORS.has(err.code)) {
        throw new InvalidCredentials(err.code, { cause: err })
      }
      throw new IdentityProviderUnavailable({ cause: err })
    }
    const subject = payload.sub
    if (typeof subject !== 'string' || subject.length === 0 || subject.length > MAX_SUBJECT_LENGTH) {
      throw new InvalidCredentials('bad subject')
    }
    const claimed = payload[policy.tierClaim]
    if (claimed === undefined) return { subject, tier: policy.defaultTier }
    // A signed token naming an unknown tier is a configuration mismatch: refuse it loudly
    // rather than quietly granting some other tier.
    if (typeof claimed !== 'string' || !tiers.has(claimed)) throw new InvalidCredentials('unknown tier')
    return { subject, tier: claimed }
  }
}

function keySource (policy: JwtPolicy, options: JwtVerifierOptions): { key: Uint8Array | JWTVerifyGetKey, algorithms: string[] } {
  if (policy.secret !== undefined) {
    return { key: new TextEncoder().encode(policy.secret), algorithms: ['HS256'] }
  }
  if (policy.jwksUrl === undefined) throw new Error('jwt policy needs "secret" or "jwksUrl"')
  const key = createRemoteJWKSet(new URL(policy.jwksUrl), { timeoutDuration: options.jwksTimeoutMs ?? 2000 })
  return { key, algorithms: ASYMMETRIC_ALGORITHMS }
}
