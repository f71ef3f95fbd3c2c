import type { Agent, Dispatcher } from 'undici'
import type { UpstreamBase } from './fal-endpoints.js'
import { toUpstreamError } from './upstream-errors.js'

export interface ForwardRequest {
  base: UpstreamBase
  method: 'GET' | 'POST' | 'PUT'
  pathAndQuery: string
  headers: Record<string, string>
  body?: string
  signal: AbortSignal
}

/**
 * One call to fal on the pooled connection, answered as undici gives it (the body still a
 * stream), for the proxy's pass-through. Transport failures come back as UpstreamErrors.
 */
export async function forwardRaw (pool: Agent, request: ForwardRequest): Promise<Dispatcher.ResponseData> {
  try {
    return await pool.request({
      origin: request.base.origin,
      path: request.base.pathPrefix + request.pathAndQuery,
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: request.signal
    })
  } catch (error) {
    throw toUpstreamError(error, request.signal)
  }
}
