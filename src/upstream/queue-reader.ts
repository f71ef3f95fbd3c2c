import type { Agent, Dispatcher } from 'undici'
import type { CallPolicy } from './call-policy.js'
import type { Departure } from './departure.js'
import type { FalEndpoints } from './fal-endpoints.js'
import { UpstreamMalformedError, httpErrorOf, toUpstreamError } from './upstream-errors.js'

export interface QueueReaderOptions {
  credentials: string
  endpoints: FalEndpoints
  pool: Agent
  policy: CallPolicy
}

export interface UpstreamJson {
  statusCode: number
  body: unknown
}

/**
 * The hot path: status and result polls, straight on the pooled undici connection.
 * `@fal-ai/client` costs more per call than the HTTP itself (shared/docs/performance.md).
 */
export function createQueueReader ({ credentials, endpoints, pool, policy }: QueueReaderOptions) {
  const { origin, pathPrefix } = endpoints.queue
  const headers = {
    authorization: `Key ${credentials}`,
    accept: 'application/json'
  }

  async function getJson (path: string, signal: AbortSignal): Promise<UpstreamJson> {
    let response: Dispatcher.ResponseData
    let text: string
    try {
      response = await pool.request({ origin, path: pathPrefix + path, method: 'GET', headers, signal })
      text = await response.body.text()
    } catch (error) {
      throw toUpstreamError(error, signal)
    }
    if (response.statusCode >= 300) {
      throw httpErrorOf(response.statusCode, text, response.headers['retry-after'])
    }
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch (error) {
      throw new UpstreamMalformedError(error)
    }
    return { statusCode: response.statusCode, body }
  }

  /**
   * Opens fal's status stream; a non-200 answer is read and thrown like any other failure.
   * fal must answer within the stream operation's deadline; `signal` alone bounds the stream after.
   */
  async function openStatusStream (appId: string, requestId: string, logs: boolean, signal: Departure): Promise<Dispatcher.ResponseData> {
    return await policy('stream', signal, async deadline => {
      let response: Dispatcher.ResponseData
      try {
        response = await pool.request({
          origin,
          path: `${pathPrefix}/${appId}/requests/${requestId}/status/stream?logs=${logs ? 1 : 0}`,
          method: 'GET',
          headers: { ...headers, accept: 'text/event-stream' },
          signal: deadline
        })
      } catch (error) {
        throw toUpstreamError(error, deadline)
      }
      if (response.statusCode !== 200) {
        const text = await response.body.text().catch(() => '')
        throw httpErrorOf(response.statusCode, text, response.headers['retry-after'])
      }
      if (!String(response.headers['content-type']).startsWith('text/event-stream')) {
        await response.body.dump().catch(() => {})
        throw new UpstreamMalformedError()
      }
      return response
    })
  }

  return {
    openStatusStream,
    async status (appId: string, requestId: string, logs: boolean, signal?: Departure): Promise<UpstreamJson> {
      return await policy('status', signal, deadline => getJson(`/${appId}/requests/${requestId}/status?logs=${logs ? 1 : 0}`, deadline))
    },
    async result (appId: string, requestId: string, signal?: Departure): Promise<UpstreamJson> {
      return await policy('result', signal, deadline => getJson(`/${appId}/requests/${requestId}`, deadline))
    }
  }
}

export type QueueReader = ReturnType<typeof createQueueReader>
