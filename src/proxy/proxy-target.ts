import type { Catalog } from '../catalog/catalog.js'
import { ENDPOINT_ID_SOURCE } from '../upstream/endpoint-id.js'
import { FAL_QUEUE_HOST, FAL_REST_HOST, FAL_RUN_HOST } from '../upstream/fal-endpoints.js'
import type { FalTarget, SubmitTarget } from '../upstream/fal-target.js'
import { REALTIME_NOT_SERVED, runTarget } from './run-target.js'
import { restTarget } from './storage-target.js'

/** A submit as the proxy receives it: its `fal_webhook` is still to be checked against the allowlist. */
export interface ProxySubmit {
  operation: 'submit'
  endpointId: string
  webhook?: string
}

/** What an allowed `x-fal-target-url` asks for: a call to fal, as the upstream layer takes it. */
export type ProxyTarget = ProxySubmit | Exclude<FalTarget, SubmitTarget>

export type TargetVerdict = { ok: true, target: ProxyTarget } | { ok: false, reason: string }

const MAX_TARGET_LENGTH = 2048
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'
const APP_ID = '([a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9.-]*)'
/** fal's rule: calls about a request name the app id (`owner/alias`)… */
const REQUEST_PATH = new RegExp(`^/${APP_ID}/requests/(${UUID})(/status(?:/stream)?|/cancel)?$`)
/** …while a submit goes to the whole endpoint id, of any depth. */
const SUBMIT_PATH = new RegExp(`^/(${ENDPOINT_ID_SOURCE})$`)

const refuse = (reason: string): TargetVerdict => ({ ok: false, reason })

/**
 * Decides whether the proxy may call a target, from an allowlist rather than a blocklist: the
 * queue calls of the served models on fal's queue host, their synchronous runs and streams on
 * fal's run host (run-target.ts), and storage upload initiation on fal's REST host
 * (storage-target.ts), over https, spelled canonically. Anything else is refused before any upstream call.
 *
 * Requiring the canonical spelling (the URL parser's own output) is what closes the tricks: a
 * target with dot segments, encoded slashes or dots, backslashes, user-info, an explicit port, a
 * fragment or odd casing parses to a different string and is refused, instead of being
 * normalised into something that might resolve elsewhere.
 */
export function resolveProxyTarget (raw: string | string[] | undefined, method: string, catalog: Catalog): TargetVerdict {
  if (typeof raw !== 'string' || raw.length === 0) return refuse('The x-fal-target-url header is missing')
  if (raw.length > MAX_TARGET_LENGTH) return refuse('The x-fal-target-url header is too long')
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    return refuse('The x-fal-target-url header is not a URL')
  }
  if (url.protocol === 'wss:' || url.protocol === 'ws:') return refuse(REALTIME_NOT_SERVED)
  if (url.href !== raw || url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.port !== '' || url.hash !== '') {
    return refuse('The target must be a plain https URL on fal\'s hosts')
  }
  if (/%|\\|\/\.\.?(\/|$)|\/\//.test(url.pathname)) return refuse('The target path is not in canonical form')
  if (url.hostname === FAL_REST_HOST) return restTarget(url, method)
  if (url.hostname === FAL_QUEUE_HOST) return queueTarget(url, method, catalog)
  if (url.hostname === FAL_RUN_HOST) return runTarget(url, method, catalog)
  return refuse('The target host is not one this gateway forwards to')
}

function queueTarget (url: URL, method: string, catalog: Catalog): TargetVerdict {
  const params = [...url.searchParams.keys()]
  const match = REQUEST_PATH.exec(url.pathname)
  if (match === null) {
    const endpointId = SUBMIT_PATH.exec(url.pathname)?.[1]
    if (endpointId === undefined) return refuse('The target is not a queue call this gateway forwards')
    if (catalog.find(endpointId) === undefined) return refuse(`Model '${endpointId}' is not served by this gateway`)
    if (method !== 'POST') return refuse('A model URL only accepts POST (submit)')
    if (params.some(name => name !== 'fal_webhook') || url.searchParams.getAll('fal_webhook').length > 1) {
      return refuse('A submit accepts only the fal_webhook query parameter')
    }
    return { ok: true, target: { operation: 'submit', endpointId, webhook: url.searchParams.get('fal_webhook') ?? undefined } }
  }
  const [, appId = '', requestId = '', action] = match
  if (!catalog.servesApp(appId)) return refuse(`Model '${appId}' is not served by this gateway`)

  const operation = action === '/status'
    ? 'status'
    : action === '/status/stream' ? 'stream' : action === '/cancel' ? 'cancel' : 'result'
  const expectedMethod = operation === 'cancel' ? 'PUT' : 'GET'
  if (method !== expectedMethod) return refuse(`The ${operation} call accepts only ${expectedMethod}`)
  const allowedParams = operation === 'status' || operation === 'stream' ? ['logs'] : []
  if (params.some(name => !allowedParams.includes(name))) return refuse(`The ${operation} call accepts no such query parameter`)
  const logs = url.searchParams.get('logs')
  const request = { appId, requestId: requestId.toLowerCase() }
  return {
    ok: true,
    target: operation === 'status' || operation === 'stream'
      ? { operation, ...request, logs: logs === '1' || logs === 'true' }
      : { operation, ...request }
  }
}

/**
 * `resolveProxyTarget` with allowed targets remembered: a browser tab polls the same target URL
 * every 500 ms, and parsing it each time is a measurable share of a proxied poll. Refusals are
 * not kept, so hostile values cannot crowd out real ones; the memory is emptied when full.
 */
export function createTargetResolver (catalog: Catalog, capacity = 10_000) {
  const allowed = new Map<string, ProxyTarget>()
  return function resolve (raw: string | string[] | undefined, method: string): TargetVerdict {
    if (typeof raw !== 'string') return resolveProxyTarget(raw, method, catalog)
    const key = `${method} ${raw}`
    const known = allowed.get(key)
    if (known !== undefined) return { ok: true, target: known }
    const verdict = resolveProxyTarget(raw, method, catalog)
    if (verdict.ok) {
      if (allowed.size >= capacity) allowed.clear()
      allowed.set(key, Object.freeze(verdict.target))
    }
    return verdict
  }
}
