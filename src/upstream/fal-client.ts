import { ApiError, createFalClient, type InQueueQueueStatus } from '@fal-ai/client'
import { fetch as undiciFetch, type Agent } from 'undici'
import type { CallPolicy } from './call-policy.js'
import type { Departure } from './departure.js'
import type { FalEndpoints } from './fal-endpoints.js'
import { UpstreamHttpError, UpstreamMalformedError, httpErrorOf, toUpstreamError } from './upstream-errors.js'

/** Status codes `@fal-ai/client` would retry on its own; the gateway decides retries itself. */
const CLIENT_RETRIED_STATUSES = new Set([429, 500, 502, 503, 504])

export interface FalClientOptions {
  credentials: string
  endpoints: FalEndpoints
  pool: Agent
  policy: CallPolicy
}

export interface SubmitOptions {
  input: Record<string, unknown>
  webhookUrl?: string
  /** Allowlisted `x-fal-*` headers of the caller, lower-cased. */
  headers?: Record<string, string>
  signal?: Departure
}

/**
 * The calls where `@fal-ai/client`'s semantics pay for themselves: submit and cancel, with its
 * typed errors (`ValidationError` for fal's 422). Its own retries are defeated on purpose, and
 * the call policy never retries these either: a retried submit is a second paid job.
 */
export function createFalQueueClient ({ credentials, endpoints, pool, policy }: FalClientOptions) {
  const fetchThroughPool = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = endpoints.map(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    // The call policy always passes its deadline as the client's abortSignal.
    const signal = init?.signal ?? undefined
    let response
    try {
      response = await undiciFetch(url, { ...(init as object), signal, dispatcher: pool })
    } catch (error) {
      throw toUpstreamError(error, signal)
    }
    if (CLIENT_RETRIED_STATUSES.has(response.status)) {
      throw httpErrorOf(response.status, await response.text().catch(() => ''), response.headers.get('retry-after'))
    }
    return response as unknown as Response
  }

  const client = createFalClient({
    credentials,
    fetch: fetchThroughPool as typeof fetch,
    retry: { maxRetries: 0 },
    suppressLocalCredentialsWarning: true
  })

  /** The client reports fal's 4xx as ApiError; the gateway speaks UpstreamHttpError everywhere. */
  function normalize (error: unknown): unknown {
    if (error instanceof ApiError) return new UpstreamHttpError(error.status, error.body, undefined)
    if (error instanceof SyntaxError) return new UpstreamMalformedError(error)
    return error
  }

  return {
    async submit (appId: string, options: SubmitOptions): Promise<InQueueQueueStatus> {
      return await policy('submit', options.signal, async signal => {
        try {
          return await client.queue.submit(appId, {
            input: options.input,
            webhookUrl: options.webhookUrl,
            headers: options.headers,
            // The client writes x-fal-queue-priority from this option over any header it is given.
            priority: priorityOf(options.headers),
            abortSignal: signal
          })
        } catch (error) {
          throw normalize(error)
        }
      })
    },

    async cancel (appId: string, requestId: string, signal?: Departure): Promise<void> {
      await policy('cancel', signal, async deadline => {
        try {
          await client.queue.cancel(appId, { requestId, abortSignal: deadline })
        } catch (error) {
          throw normalize(error)
        }
      })
    }
  }
}

export type FalQueueClient = ReturnType<typeof createFalQueueClient>

function priorityOf (headers: Record<string, string> | undefined): 'low' | 'normal' | undefined {
  const priority = headers?.['x-fal-queue-priority']
  return priority === 'low' || priority === 'normal' ? priority : undefined
}
