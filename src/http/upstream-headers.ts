import type { IncomingHttpHeaders } from 'node:http'
import { falHeadersOf } from './fal-headers.js'

/**
 * Headers for a call to fal, built from scratch: the gateway's key, JSON, and the caller's
 * allowlisted `x-fal-*` options. Nothing else the caller sent (its authorization, cookies,
 * hop-by-hop headers, host) is ever copied.
 */
export function upstreamHeaders (authorization: string, incoming: IncomingHttpHeaders, hasBody: boolean, accept = 'application/json'): Record<string, string> {
  return {
    ...falHeadersOf(incoming),
    authorization,
    accept,
    'user-agent': 'fal-gateway',
    ...(hasBody ? { 'content-type': 'application/json' } : {})
  }
}
