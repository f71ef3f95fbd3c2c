import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createRemoteJWKSet } from 'jose'
import { signedByAny } from './fal-signature.js'

export interface FalJwksOptions {
  url: string
  /** Least time between two refreshes caused by a signature no cached key verifies. */
  minRefreshMs: number
  /** Longest a fetched key set is trusted before it is fetched again. */
  maxAgeMs?: number
  timeoutMs?: number
}

/** fal's key set could not be fetched: the delivery can be neither accepted nor refused yet. */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError'
}

/**
 * fal allows caching its JWKS for 24 h; one hour bounds how long a key fal retired stays trusted,
 * at 24 small fetches a day.
 */
const DEFAULT_MAX_AGE_MS = 3600_000
const DEFAULT_TIMEOUT_MS = 5000

/**
 * fal's signing keys. jose's remote key set does the fetching (timeout, no redirects), the caching,
 * the single flight and the refresh cool-down; fal's signatures name no key, so instead of jose's
 * key selection every Ed25519 key of the set is tried, with node:crypto.
 */
export function createFalJwks ({ url, minRefreshMs, maxAgeMs = DEFAULT_MAX_AGE_MS, timeoutMs = DEFAULT_TIMEOUT_MS }: FalJwksOptions) {
  const remote = createRemoteJWKSet(new URL(url), { cacheMaxAge: maxAgeMs, cooldownDuration: minRefreshMs, timeoutDuration: timeoutMs })
  let imported: { from: string, keys: KeyObject[] } | undefined

  async function reload (): Promise<void> {
    try {
      await remote.reload()
    } catch (error) {
      throw new JwksUnavailableError('fal\'s JWKS could not be fetched', { cause: error })
    }
  }

  function keys (): KeyObject[] {
    const set = remote.jwks()
    const from = JSON.stringify(set ?? null)
    if (imported?.from !== from) {
      const usable = (set?.keys ?? []).filter(jwk => jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && (jwk.use === undefined || jwk.use === 'sig'))
      imported = { from, keys: usable.flatMap(jwk => importKey(jwk as JsonWebKey)) }
    }
    return imported.keys
  }

  return {
    /**
     * Whether one of fal's keys signed `message`. Fetches the set when it is missing or old, and
     * again (at most once per cool-down) when no cached key verifies, as after a rotation.
     * Throws JwksUnavailableError when the set it needs cannot be fetched.
     */
    async verify (message: Buffer, signature: Buffer): Promise<boolean> {
      if (!remote.fresh) await reload()
      if (signedByAny(keys(), message, signature)) return true
      if (remote.coolingDown) return false
      await reload()
      return signedByAny(keys(), message, signature)
    }
  }
}

export type FalJwks = ReturnType<typeof createFalJwks>

function importKey (jwk: JsonWebKey): KeyObject[] {
  try {
    return [createPublicKey({ key: jwk, format: 'jwk' })]
  } catch {
    return []
  }
}
