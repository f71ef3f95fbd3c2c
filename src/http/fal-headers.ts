import type { IncomingHttpHeaders } from 'node:http'

/**
 * The caller's headers fal may see: only these documented `x-fal-*` job options. Everything
 * else (authorization, cookies, hop-by-hop headers) is dropped; the gateway adds its own key.
 */
export const FORWARDED_FAL_HEADERS = [
  'x-fal-queue-priority',
  'x-fal-runner-hint',
  'x-fal-request-timeout',
  'x-fal-object-lifecycle-preference'
] as const

export function falHeadersOf (headers: IncomingHttpHeaders): Record<string, string> {
  const picked: Record<string, string> = {}
  for (const name of FORWARDED_FAL_HEADERS) {
    const value = headers[name]
    if (typeof value === 'string') picked[name] = value
  }
  return picked
}
