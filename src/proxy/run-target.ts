import type { Catalog } from '../catalog/catalog.js'
import { parseEndpointId } from '../upstream/endpoint-id.js'
import type { TargetVerdict } from './proxy-target.js'

/**
 * The one answer to realtime, whichever way it arrives (`/tokens/` on the REST host, a websocket
 * URL, a `/realtime` path): fal's realtime is a websocket from the browser straight to fal,
 * authorised by a token minted with the fal key, which no gateway rule could then follow.
 */
export const REALTIME_NOT_SERVED = 'Realtime is not served by this gateway: fal.realtime (and fal.stream with connectionMode "client") ' +
  'needs a token for a websocket straight to fal, out of reach of its limits. Use fal.subscribe, fal.run or fal.stream'

const STREAM_SUFFIX = '/stream'

const refuse = (reason: string): TargetVerdict => ({ ok: false, reason })

/**
 * `fal.run` and `fal.stream` on fal's run host: `POST /{endpoint id}`, answered with the model's
 * output, or `POST /{endpoint id}/stream`, answered with server-sent events of partial outputs
 * (for endpoints that stream; fal refuses the others). Only served endpoints, only POST with the
 * input as the body: a GET run would carry the input in the query, past the body's validation.
 */
export function runTarget (url: URL, method: string, catalog: Catalog): TargetVerdict {
  const path = url.pathname.slice(1)
  if (path.endsWith('/realtime')) return refuse(REALTIME_NOT_SERVED)
  if (method !== 'POST') return refuse('fal.run and fal.stream are forwarded only as POST, with the input as the JSON body')
  if (url.search !== '') return refuse('fal.run and fal.stream accept no query parameters here')
  const streamed = path.endsWith(STREAM_SUFFIX) ? path.slice(0, -STREAM_SUFFIX.length) : undefined
  // An endpoint whose own last segment is `stream` stays a plain run of that endpoint.
  if (streamed !== undefined && catalog.find(streamed) !== undefined) return { ok: true, target: { operation: 'run', endpointId: streamed, stream: true } }
  if (parseEndpointId(path) === undefined) return refuse('The target is not a fal.run call this gateway forwards')
  if (catalog.find(path) === undefined) return refuse(`Model '${path}' is not served by this gateway`)
  return { ok: true, target: { operation: 'run', endpointId: path, stream: false } }
}
