import type { IncomingHttpHeaders } from 'node:http'
import { fetch as undiciFetch, type Agent, type Dispatcher } from 'undici'
import type { Departure } from './departure.js'
import type { FalCredentials } from './fal-credentials.js'
import type { FalEndpoints } from './fal-endpoints.js'
import { FalFailure, failureOfThrown, parseRetryAfter } from './fal-failure.js'
import type { FalAddress } from './fal-target.js'
import { WholeAnswerReader, type WholeAnswer } from './whole-answer.js'

export interface FalTransportOptions {
  credentials: FalCredentials
  endpoints: FalEndpoints
  /** The keep-alive pool every call to fal shares (connection-pool.ts). */
  pool: Agent
}

export interface FalRequest extends FalAddress {
  accept?: 'application/json' | 'text/event-stream'
  /** The caller's allowlisted `x-fal-*` job options (http/fal-headers.ts). */
  jobHeaders?: Record<string, string>
  body?: string
}

/**
 * fal's answers that are not a success but are the client's to hear (a 404 for an unknown
 * request, a 400 for a cancel after completion): every other 4xx. fal's 5xx, 401, 403 and 429
 * and any redirect are fal's trouble (or the gateway's), thrown so breakers and retries see them.
 */
export function isClientsAnswer (statusCode: number): boolean {
  return statusCode >= 400 && statusCode < 500 && statusCode !== 401 && statusCode !== 403 && statusCode !== 429
}

/**
 * The only code that puts bytes on the wire to fal: the pooled undici requests of the hot path and
 * the fetch `@fal-ai/client` is given, on one connection pool. Here, and only here: the key goes
 * into `Authorization`, headers are built from scratch (nothing the client sent but its
 * allowlisted job options), redirects are refused, and every failure becomes a FalFailure.
 */
export function createFalTransport ({ credentials, endpoints, pool }: FalTransportOptions) {
  const { authorization } = credentials
  const fixed = { authorization, 'user-agent': 'fal-gateway' }
  // The hot path's headers are built once.
  const jsonRead = { ...fixed, accept: 'application/json' }
  const streamRead = { ...fixed, accept: 'text/event-stream' }

  function headersOf (request: FalRequest): Record<string, string> {
    if (request.body === undefined && request.jobHeaders === undefined) return request.accept === 'text/event-stream' ? streamRead : jsonRead
    return {
      ...request.jobHeaders,
      ...fixed,
      accept: request.accept ?? 'application/json',
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' })
    }
  }

  /** fal's answer that is not a success, as the FalFailure it is; its body is scrubbed. */
  function failureOfAnswer (status: number, header: (name: string) => string | undefined, text: string): FalFailure {
    if (status < 400) {
      const location = header('location')
      return new FalFailure({ kind: 'redirected', status }, { excerpt: credentials.excerpt(`location: ${location ?? '(none)'}`) })
    }
    const scrubbed = credentials.scrub(text)
    return new FalFailure(
      { kind: 'answered', status, retryAfterSeconds: parseRetryAfter(header('retry-after')) },
      { body: parseJsonOrUndefined(scrubbed), excerpt: credentials.excerpt(scrubbed) }
    )
  }

  /**
   * One call on the pool, its answer read to the end (polls, results, the proxy's relays).
   * Resolves with fal's success, or with a 4xx that is the client's to hear when
   * `passClientsAnswers` is set; throws a FalFailure for anything else.
   */
  async function requestWhole (call: FalRequest, signal: Departure, passClientsAnswers = false): Promise<WholeAnswer> {
    const base = endpoints[call.host]
    let answer: WholeAnswer
    try {
      // undici's dispatch never follows redirects: a 3xx comes back as an answer, refused below.
      answer = await new Promise<WholeAnswer>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason)
          return
        }
        const reader = new WholeAnswerReader(signal, (error, whole) => { if (whole === undefined) reject(error); else resolve(whole) })
        pool.dispatch({ origin: base.origin, path: base.pathPrefix + call.path, method: call.method, headers: headersOf(call), body: call.body ?? null }, reader)
      })
    } catch (error) {
      throw failureOfThrown(error, signal)
    }
    const status = answer.statusCode
    if (status < 300 || (passClientsAnswers && isClientsAnswer(status))) return answer
    throw failureOfAnswer(status, name => headerValue(answer.headers, name), answer.text)
  }

  /**
   * One call on the pool whose answer is a stream (fal's server-sent events): resolves at fal's
   * headers with a success; throws a FalFailure for anything else.
   */
  async function requestStream (call: FalRequest, signal: Departure): Promise<Dispatcher.ResponseData> {
    const base = endpoints[call.host]
    let response: Dispatcher.ResponseData
    try {
      response = await pool.request({ origin: base.origin, path: base.pathPrefix + call.path, method: call.method, headers: headersOf(call), body: call.body, signal: undiciSignal(signal) })
    } catch (error) {
      throw failureOfThrown(error, signal)
    }
    const status = response.statusCode
    if (status < 300) return response
    throw failureOfAnswer(status, name => headerValue(response.headers, name), await response.body.text().catch(() => ''))
  }

  /**
   * The fetch `@fal-ai/client` calls fal with: its URLs mapped onto the configured hosts, the key
   * added here (the client itself is given none), redirects refused, and any answer but a success
   * thrown as a FalFailure, so the client's own error handling and retries never run.
   */
  async function clientFetch (input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = endpoints.map(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url)
    const signal = init?.signal ?? undefined
    const headers = { ...Object.fromEntries(new Headers(init?.headers)), ...fixed }
    let response
    try {
      response = await undiciFetch(url, { method: init?.method, body: typeof init?.body === 'string' ? init.body : undefined, headers, signal, dispatcher: pool, redirect: 'manual' })
    } catch (error) {
      throw failureOfThrown(error, signal)
    }
    if (response.status >= 300) throw failureOfAnswer(response.status, name => response.headers.get(name) ?? undefined, await response.text().catch(() => ''))
    return response as unknown as Response
  }

  /** The body of fal's success, as JSON: anything else (an HTML page, say) is malformed. */
  function parseSuccess (text: string): unknown {
    try {
      return JSON.parse(text)
    } catch {
      // Not the SyntaxError as a reason: V8 quotes the text in its message, and logs must not.
      throw new FalFailure({ kind: 'malformed' }, { excerpt: credentials.excerpt(text) })
    }
  }

  return { requestWhole, requestStream, clientFetch, parseSuccess }
}

export type FalTransport = ReturnType<typeof createFalTransport>

/** undici reads only `aborted`, `reason` and the abort listeners of the signal it is given. */
function undiciSignal (signal: Departure): AbortSignal {
  return signal as unknown as AbortSignal
}

function headerValue (headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return Array.isArray(value) ? value[0] : value
}

function parseJsonOrUndefined (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}
