import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { ClientKeyEntry } from './policy-file.js'

export function hashClientKey (key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** A fresh random key and the hash to paste into the policy file (the key itself is never stored). */
export function generateClientKey (): { key: string, sha256: string } {
  const key = `gw_${randomBytes(32).toString('base64url')}`
  return { key, sha256: hashClientKey(key) }
}

export type ClientKeyLookup = (presented: string) => ClientKeyEntry | undefined

/**
 * Matches a presented key against the policy's hashes. Digests all have 32 bytes, so
 * timingSafeEqual never throws, and every entry is compared so the time taken says nothing
 * about which entry (if any) matched. Revoked entries are returned: the caller refuses them.
 */
export function createClientKeyLookup (entries: readonly ClientKeyEntry[]): ClientKeyLookup {
  const digests = entries.map(entry => ({ entry, digest: Buffer.from(entry.sha256, 'hex') }))
  return (presented) => {
    const digest = createHash('sha256').update(presented, 'utf8').digest()
    let match: ClientKeyEntry | undefined
    for (const candidate of digests) {
      if (timingSafeEqual(candidate.digest, digest)) match = candidate.entry
    }
    return match
  }
}
