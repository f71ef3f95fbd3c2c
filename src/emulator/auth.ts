import { createHash, timingSafeEqual } from 'node:crypto'

const digest = (value: string): Buffer => createHash('sha256').update(value).digest()

/**
 * Returns a checker for `Authorization: Key <falKey>` that answers the 401 detail to send, or
 * undefined when the header is right. Digests are compared so lengths never differ.
 */
export function keyChecker (falKey: string): (authorization: string | undefined) => string | undefined {
  const expected = digest(`Key ${falKey}`)
  return authorization => {
    if (authorization === undefined || authorization === '') return 'Missing authorization header'
    if (!authorization.startsWith('Key ')) return 'Invalid authorization header format, expected: Key <key>'
    return timingSafeEqual(digest(authorization), expected) ? undefined : 'No user found for Key ID and Secret'
  }
}
