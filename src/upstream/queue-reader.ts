import type { Agent, Dispatcher } from 'undici'
import type { FalEndpoints } from './fal-endpoints.js'
import {
  UpstreamHttpError,
  UpstreamMalformedError,
  parseRetryAfter,
  toUpstreamError
} from './upstream-errors.js'

export interface QueueReaderOptions {
  credentials: string
  endpoints: FalEndpoints
  pool: Agent
  timeoutMs: number
}

export interface UpstreamJson {
  statusCode: number
  body: unknown
  /** fal's `x-fal-request-id`, when it sent one. */
  falRequestId?: string
}

/**
 * The hot path: status and result polls, straight on the pooled undici connection.
 * `@fal-ai/client` costs more per call than the HTTP itself (shared/docs/performance.md).
 */
export function createQueueReader ({ credentials, endpoints, pool, timeoutMs }: QueueReaderOptions) {
  const { origin, pathPrefix } = endpoints.queue
  const headers = {
    authorization: `Key ${credentials}`,
    accept: 'application/json'
  }

  async function getJson (path: string, signal?: AbortSignal): Promise<UpstreamJson> {
    const deadline = signal === undefined
      ? AbortSignal.timeout(timeoutMs)
      : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
    let response: Dispatcher.ResponseData
    try {
      response = await pool.request({ origin, path: pathPrefix + path, method: 'GET', headers, signal: deadline })
    } catch (error) {
      throw toUpstreamError(error, deadline)
    }
    let text: string
    try {
      text = await response.body.text()
    } catch (error) {
      throw toUpstreamError(error, deadline)
    }
    if (response.statusCode >= 300) {
      throw new UpstreamHttpError(response.statusCode, parseOrUndefined(text), parseRetryAfter(response.headers['retry-after']))
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (error) {
      throw new UpstreamMalformedError(error)
    }
    const falRequestId = response.headers['x-fal-request-id']
    return { statusCode: response.statusCode, body, falRequestId: typeof falRequestId === 'string' ? falRequestId : undefined }
  }

  /** Opens fal's status stream; a non-200 answer is read and thrown like any other failure. */
  async function openStatusStream (appId: string, requestId: string, logs: boolean, signal: AbortSignal): Promise<Dispatcher.ResponseData> {
    let response: Dispatcher.ResponseData
    try {
      response = await pool.request({
        origin,
        path: `${pathPrefix}/${appId}/requests/${requestId}/status/stream?logs=${logs ? 1 : 0}`,
        method: 'GET',
        headers: { ...headers, accept: 'text/event-stream' },
        signal
      })
    } catch (error) {
      throw toUpstreamError(error, signal)
    }
    if (response.statusCode !== 200) {
      const text = await response.body.text().catch(() => '')
      throw new UpstreamHttpError(response.statusCode, parseOrUndefined(text), parseRetryAfter(response.headers['retry-after']))
    }
    return response
  }

  return {
    openStatusStream,
    status (appId: string, requestId: string, logs: boolean, signal?: AbortSignal): Promise<UpstreamJson> {
      return getJson(`/${appId}/requests/${requestId}/status?logs=${logs ? 1 : 0}`, signal)
    },
    result (appId: string, requestId: string, signal?: AbortSignal): Promise<UpstreamJson> {
      return getJson(`/${appId}/requests/${requestId}`, signal)
    }
  }
}

export type QueueReader = ReturnType<typeof createQueueReader>

function parseOrUndefined (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
