import type { IncomingHttpHeaders } from 'node:http'
import type { Agent, Dispatcher } from 'undici'
import type { UpstreamOperation } from './breakers.js'
import type { CallPolicy } from './call-policy.js'
import type { Departure } from './departure.js'
import type { UpstreamBase } from './fal-endpoints.js'
import { httpErrorOf, toUpstreamError } from './upstream-errors.js'

export interface ForwardRequest {
  base: UpstreamBase
  method: 'GET' | 'POST' | 'PUT'
  pathAndQuery: string
  headers: Record<string, string>
  body?: string
  /** The caller's own signal (the client leaving, a stream's lifetime); the deadline is added here. */
  signal?: Departure
}

/** fal's whole answer, read under the call's deadline. */
export interface RelayedAnswer {
  statusCode: number
  headers: IncomingHttpHeaders
  text: string
}

/** Answers that are fal's trouble, not the client's: thrown, so the breaker and retries see them. */
function isFalFailure (statusCode: number): boolean {
  return statusCode >= 500 || statusCode === 401 || statusCode === 403 || statusCode === 429
}

/**
 * Calls to fal on the pooled connection under the operation's call policy, for the proxy's
 * pass-through. Transport failures and fal's 5xx, 401, 403 and 429 come back as UpstreamErrors;
 * any other answer is the caller's to relay.
 */
export function createRawForwarder (pool: Agent, policy: CallPolicy) {
  async function send (request: ForwardRequest, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    let response: Dispatcher.ResponseData
    try {
      response = await pool.request({
        origin: request.base.origin,
        path: request.base.pathPrefix + request.pathAndQuery,
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal
      })
    } catch (error) {
      throw toUpstreamError(error, signal)
    }
    if (!isFalFailure(response.statusCode)) return response
    throw httpErrorOf(response.statusCode, await response.body.text().catch(() => ''), response.headers['retry-after'])
  }

  return {
    /** Submit, cancel, upload initiation: the whole answer is read within the deadline. */
    async relay (operation: UpstreamOperation, request: ForwardRequest): Promise<RelayedAnswer> {
      return await policy(operation, request.signal, async signal => {
        const response = await send(request, signal)
        try {
          return { statusCode: response.statusCode, headers: response.headers, text: await response.body.text() }
        } catch (error) {
          throw toUpstreamError(error, signal)
        }
      })
    },

    /** A status stream: fal must answer within the deadline; the body then lives as long as the caller. */
    async stream (request: ForwardRequest): Promise<Dispatcher.ResponseData> {
      return await policy('stream', request.signal, async signal => await send(request, signal))
    }
  }
}

export type RawForward = ReturnType<typeof createRawForwarder>
