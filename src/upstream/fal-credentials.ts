/**
 * The gateway's fal key, held here alone: the `Authorization` header every call to fal carries,
 * and the scrubbing of anything fal sends back before it is logged or passed on.
 */

/** A credential as an `Authorization` value would carry it: the scheme, then the token. */
const PRESENTED_CREDENTIAL = /\b(Key|Bearer|Basic|Token)(\s+)[^\s"'\\,;]+/gi
const REDACTED = '[redacted]'
/** A secret half shorter than this is not scrubbed on its own: it would match ordinary text. */
const MIN_SCRUBBED_SECRET = 8
/** What the logs may show of an answer from fal. */
const MAX_EXCERPT = 500

export interface FalCredentials {
  /** The `Authorization` header of every call to fal: the one place its format is known. */
  readonly authorization: string
  /** `text` without the key, its secret half, or any credential presented with a scheme. */
  scrub (text: string): string
  /** `text` scrubbed, then capped: what may be logged or told of an answer from fal. */
  excerpt (text: string): string
}

/** The gateway's fal key (`key` or `id:secret`), as the upstream layer alone holds it. */
export function createFalCredentials (key: string): FalCredentials {
  const secret = key.includes(':') ? key.slice(key.indexOf(':') + 1) : ''
  const scrub = (text: string): string => {
    let scrubbed = text.split(key).join(REDACTED)
    if (secret.length >= MIN_SCRUBBED_SECRET) scrubbed = scrubbed.split(secret).join(REDACTED)
    return scrubbed.replace(PRESENTED_CREDENTIAL, `$1$2${REDACTED}`)
  }
  return {
    authorization: `Key ${key}`,
    scrub,
    excerpt (text) {
      const scrubbed = scrub(text)
      return scrubbed.length > MAX_EXCERPT ? `${scrubbed.slice(0, MAX_EXCERPT)}… (${scrubbed.length} characters)` : scrubbed
    }
  }
}
