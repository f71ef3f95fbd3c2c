import diagnostics from 'node:diagnostics_channel'
import type { GatewayMetrics, UpstreamOutcome } from './gateway-metrics.js'
import { isTimeout } from '../upstream/fal-failure.js'

export interface UpstreamBaseUrl {
  origin: string
  pathPrefix: string
}

interface UndiciRequest { origin?: unknown, method?: unknown, path?: unknown }
interface RequestMessage { request: UndiciRequest, response?: { statusCode: number }, error?: unknown }

const CHANNELS = ['undici:request:create', 'undici:request:headers', 'undici:request:error'] as const

/**
 * Counts and times every call to fal by listening to undici's diagnostics channels, so the typed
 * routes, the proxy, `@fal-ai/client` and each retry attempt are all seen without wrapping the
 * upstream code. Only requests to the configured fal bases count (other apps in the process and
 * their own upstreams are ignored). Model labels are limited to `modelIds`; anything else is
 * `other`, so a client cannot mint label values. Returns the unsubscribe function.
 */
export function observeUpstream (metrics: GatewayMetrics, bases: { queue: UpstreamBaseUrl, rest: UpstreamBaseUrl, run?: UpstreamBaseUrl }, modelIds: readonly string[]): () => void {
  const started = new WeakMap<object, { at: bigint, model: string, operation: string }>()
  // Longest first: a submit to `fal-ai/flux/dev` is labelled so, a status poll on `fal-ai/flux/requests/…` by its app.
  const labels = [...new Set(modelIds)].sort((a, b) => b.length - a.length)

  const classify = (request: UndiciRequest): { model: string, operation: string } | undefined => {
    if (typeof request.path !== 'string' || typeof request.method !== 'string') return undefined
    const path = request.path.split('?')[0] as string
    // fal.run and fal.stream; in development the run host is a path on the emulator's one origin.
    const run = bases.run
    if (run !== undefined && request.origin === run.origin && path.startsWith(run.pathPrefix + '/') &&
      (run.origin !== bases.queue.origin || run.pathPrefix !== bases.queue.pathPrefix)) {
      const rest = path.slice(run.pathPrefix.length + 1)
      const streamed = rest.endsWith('/stream')
      const model = modelIds.find(id => rest === id || rest.startsWith(id + '/')) ?? 'other'
      return { model, operation: streamed ? 'run-stream' : 'run' }
    }
    // The emulator serves both hosts on one origin; there the REST host is its storage paths.
    const sharedOrigin = bases.rest.origin === bases.queue.origin
    if (request.origin === bases.rest.origin && path.startsWith(bases.rest.pathPrefix + (sharedOrigin ? '/storage/' : '/'))) {
      return { model: 'storage', operation: 'upload' }
    }
    if (request.origin !== bases.queue.origin || !path.startsWith(bases.queue.pathPrefix + '/')) return undefined
    const rest = path.slice(bases.queue.pathPrefix.length + 1)
    const model = labels.find(id => rest === id || rest.startsWith(id + '/')) ?? 'other'
    return { model, operation: operationOf(request.method, rest) }
  }

  const finish = (request: UndiciRequest, outcome: UpstreamOutcome): void => {
    const call = started.get(request)
    if (call === undefined) return
    started.delete(request)
    const labels = { model: call.model, operation: call.operation, outcome }
    metrics.upstreamCalls.inc(labels)
    metrics.upstreamDuration.observe(labels, Number(process.hrtime.bigint() - call.at) / 1e9)
  }

  const handlers = {
    'undici:request:create': (message: unknown) => {
      const { request } = message as RequestMessage
      const call = classify(request)
      if (call !== undefined) started.set(request, { ...call, at: process.hrtime.bigint() })
    },
    'undici:request:headers': (message: unknown) => {
      const { request, response } = message as RequestMessage
      const status = response?.statusCode ?? 0
      finish(request, status < 400 ? 'ok' : status < 500 ? 'client_error' : 'server_error')
    },
    'undici:request:error': (message: unknown) => {
      const { request, error } = message as RequestMessage
      finish(request, isTimeout(error) ? 'timeout' : 'error')
    }
  }
  for (const name of CHANNELS) diagnostics.subscribe(name, handlers[name])
  return () => {
    for (const name of CHANNELS) diagnostics.unsubscribe(name, handlers[name])
  }
}

function operationOf (method: string, path: string): string {
  if (method === 'POST') return 'submit'
  if (path.endsWith('/status/stream')) return 'stream'
  if (path.endsWith('/status')) return 'status'
  if (method === 'PUT' && path.endsWith('/cancel')) return 'cancel'
  if (/\/requests\/[^/]+$/.test(path)) return 'result'
  return 'other'
}
