import { anonymousClientId } from './client-ip.js'
import { createClientKeyLookup } from './client-keys.js'
import { AnonymousDisabled, InvalidCredentials } from '../errors/gateway-errors.js'
import { createJwtVerifier, type JwtVerifier, type JwtVerifierOptions } from './jwt.js'
import type { Policy } from './policy-file.js'

export interface Client {
  /** Prefixed by kind: `key:acme-web`, `jwt:<sub>`, `ip:1.2.3.4`, `ip:2001:db8:1:2::/64`. */
  id: string
  kind: 'key' | 'jwt' | 'anonymous'
  tier: string
}

export interface ClientRequest {
  authorization?: string | undefined
  /** The framework's resolved client address (trusted proxies already applied). */
  ip?: string | undefined
  peerAddress?: string | undefined
}

export type ResolveClient = (request: ClientRequest) => Promise<Client>

export type ClientResolverOptions = Omit<JwtVerifierOptions, 'tiers'>

const BEARER = /^Bearer +(\S+) *$/i
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/

/**
 * Who is asking, in this order: a client key or a JWT in `Authorization: Bearer …`, else the
 * client's address when anonymous access is on. Any Authorization header that fails to prove an
 * identity is refused (401): it never degrades to anonymous.
 */
export function createClientResolver (policy: Policy, options: ClientResolverOptions = {}): ResolveClient {
  const findKey = createClientKeyLookup(policy.keys)
  const verifyJwt: JwtVerifier | undefined = policy.jwt === undefined
    ? undefined
    : createJwtVerifier(policy.jwt, { ...options, tiers: Object.keys(policy.tiers) })

  return async ({ authorization, ip, peerAddress }) => {
    if (authorization === undefined || authorization === '') {
      if (!policy.anonymous.enabled) throw new AnonymousDisabled()
      return { id: anonymousClientId(ip, peerAddress), kind: 'anonymous', tier: policy.anonymous.tier }
    }
    const token = BEARER.exec(authorization)?.[1]
    if (token === undefined) throw new InvalidCredentials('expected "Authorization: Bearer <token>"')

    const key = findKey(token)
    if (key !== undefined) {
      if (key.revoked === true) throw new InvalidCredentials('revoked key')
      return { id: `key:${key.id}`, kind: 'key', tier: key.tier }
    }
    if (verifyJwt !== undefined && JWT_SHAPE.test(token)) {
      const { subject, tier } = await verifyJwt(token)
      return { id: `jwt:${subject}`, kind: 'jwt', tier }
    }
    throw new InvalidCredentials('unknown key')
  }
}
