import type { IncomingHttpHeaders } from 'node:http'
import type { Agent } from 'undici'
import type { Readable } from 'node:stream'
import { createFalClient } from '@fal-ai/client'
import type { CallEvents } from './call-events.js'
import type { CallPolicy } from './call-policy.js'
import type { Deadline } from './deadline.js'
import type { Departure } from './departure.js'
import { FalFailure, failureOfThrown } from './fal-failure.js'
import {
  falAddressOf,
  type CancelTarget,
  type FalTarget,
  type ResultTarget,
  type RunTarget,
  type StatusTarget,
  type StreamTarget,
  type SubmitTarget,
  type UploadTarget
} from './fal-target.js'
import { createFalTransport, type FalTransportOptions } from './fal-transport.js'
import type { WholeAnswer } from './whole-answer.js'

export interface FalUpstreamOptions extends FalTransportOptions {
  /** Deadlines, breakers and retries of every call (call-policy.ts). */
  policy: CallPolicy
  /** Status streams' own pool (connection-pool.ts); without one they share `pool`. */
  streamPool?: Agent
  /** Where every call that goes out is reported once it ends (for metrics). */
  events: CallEvents
}

export interface SubmitCall {
  input: Record<string, unknown>
  /** The caller's allowlisted `x-fal-*` job options, lower-cased. */
  jobHeaders?: Record<string, string>
  /** The caller going away; the operation's deadline is added here. */
  signal?: Departure
}

export interface RelayCall {
  /** The request body as fal receives it (submit and upload initiation). */
  body?: string
  jobHeaders?: Record<string, string>
  signal?: Departure
}

/** A submit fal accepted. */
export interface Submitted {
  requestId: string
  queuePosition?: number
}

/** A status or result answer of fal's (200 or 202), parsed. */
export interface FalJson {
  statusCode: number
  body: unknown
}

/** fal's whole answer, read under the call's deadline, for the proxy to pass on. */
export type RelayedAnswer = WholeAnswer

export interface RelayedSubmit extends RelayedAnswer {
  requestId: string
}

/** A streamed run fal accepted: its headers, and its events as they arrive. */
export interface OpenedRunStream {
  headers: IncomingHttpHeaders
  events: Readable
}

/** Every call the gateway makes to fal, behind one interface. */
export interface FalUpstream {
  /** Through `@fal-ai/client` (its request shape and job options); never retried. */
  submit (target: SubmitTarget, call: SubmitCall): Promise<Submitted>
  /** Through `@fal-ai/client`; never retried. A fal 4xx is thrown. */
  cancel (target: CancelTarget, signal?: Departure): Promise<void>
  /** The hot path: straight on the pool, retried within the deadline. */
  status (target: StatusTarget, signal?: Departure): Promise<FalJson>
  result (target: ResultTarget, signal?: Departure): Promise<FalJson>
  /** fal's server-sent events; fal must answer within the status deadline, `signal` bounds the rest. */
  openStatusStream (target: StreamTarget, signal: Departure): Promise<Readable>
  /**
   * The proxy's pass-through, fal's answer as it came. A submit or a run must succeed (or it is
   * thrown, so its job slot is given back); a cancel's or an upload's 4xx is the client's to hear.
   */
  relay: {
    (target: SubmitTarget, call: RelayCall): Promise<RelayedSubmit>
    (target: CancelTarget | UploadTarget | RunTarget, call: RelayCall): Promise<RelayedAnswer>
  }
  /**
   * `fal.stream`: a run whose answer is server-sent events. fal must start answering within the
   * run deadline and with a success (anything else is thrown); `call.signal` bounds the rest.
   */
  openRunStream (target: RunTarget, call: RelayCall & { signal: Departure }): Promise<OpenedRunStream>
}

/**
 * The one way to fal. `@fal-ai/client` serves submit and cancel, where its request shape pays;
 * the pool serves polls, streams and the proxy's pass-through, where the client would cost more
 * per call than the HTTP itself (BENCHMARKS.md). Both go through one transport, so
 * the key, the headers, redirects and failures are handled in one place (fal-transport.ts).
 */
export function createFalUpstream ({ credentials, endpoints, pool, streamPool, policy, events }: FalUpstreamOptions): FalUpstream {
  const transport = createFalTransport({ credentials, endpoints, pool })
  const streams = streamPool === undefined ? transport : createFalTransport({ credentials, endpoints, pool: streamPool })
  const client = createFalClient({
    // The transport adds the key; given none, the client cannot read FAL_KEY from the environment either.
    credentials: () => undefined,
    fetch: transport.clientFetch as typeof fetch,
    // Only successes reach this handler (the transport throws the rest).
    responseHandler: async (response: Response) => transport.parseSuccess(await response.text()),
    // Retries are the call policy's to decide, and a submit is never retried.
    retry: { maxRetries: 0 },
    suppressLocalCredentialsWarning: true
  })

  async function readJson (target: StatusTarget | ResultTarget, signal: Deadline): Promise<FalJson> {
    const answer = await events.watch(target.operation, modelOf(target), () => transport.requestWhole(falAddressOf(target), signal))
    return { statusCode: answer.statusCode, body: transport.parseSuccess(answer.text) }
  }

  async function relay (target: SubmitTarget, call: RelayCall): Promise<RelayedSubmit>
  async function relay (target: CancelTarget | UploadTarget | RunTarget, call: RelayCall): Promise<RelayedAnswer>
  async function relay (target: SubmitTarget | CancelTarget | UploadTarget | RunTarget, call: RelayCall): Promise<RelayedAnswer | RelayedSubmit> {
    return await policy(target.operation, call.signal, async signal => {
      const mustSucceed = target.operation === 'submit' || target.operation === 'run'
      const answer = await events.watch(target.operation, modelOf(target), () => transport.requestWhole({ ...falAddressOf(target), jobHeaders: call.jobHeaders, body: call.body }, signal, !mustSucceed))
      return target.operation === 'submit' ? { ...answer, ...accepted(transport.parseSuccess(answer.text)) } : answer
    })
  }

  /** The request id (and queue position) of fal's answer to a submit; anything else is malformed. */
  function accepted (body: unknown): Submitted {
    const { request_id: requestId, queue_position: queuePosition } = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
    if (typeof requestId !== 'string') throw new FalFailure({ kind: 'malformed' }, { excerpt: credentials.excerpt(JSON.stringify(body) ?? '') })
    return { requestId, queuePosition: typeof queuePosition === 'number' ? queuePosition : undefined }
  }

  return {
    async submit (target, call) {
      return await policy('submit', call.signal, async signal => {
        try {
          // With JSON input the client makes exactly one call: no files of the input to upload first.
          return accepted(await events.watch('submit', modelOf(target), () => client.queue.submit(target.endpointId, {
            input: call.input,
            webhookUrl: target.webhookUrl,
            headers: call.jobHeaders,
            // The client writes x-fal-queue-priority from this option over any header it is given.
            priority: priorityOf(call.jobHeaders),
            abortSignal: signal.abortSignal
          })))
        } catch (error) {
          throw failureOfThrown(error, signal)
        }
      })
    },

    async cancel (target, signal) {
      await policy('cancel', signal, async deadline => {
        try {
          await events.watch('cancel', modelOf(target), () => client.queue.cancel(target.appId, { requestId: target.requestId, abortSignal: deadline.abortSignal }))
        } catch (error) {
          throw failureOfThrown(error, deadline)
        }
      })
    },

    async status (target, signal) {
      return await policy('status', signal, deadline => readJson(target, deadline))
    },

    async result (target, signal) {
      return await policy('result', signal, deadline => readJson(target, deadline))
    },

    async openStatusStream (target, signal) {
      return await policy('stream', signal, async deadline => {
        const response = await events.watch('stream', modelOf(target), () => streams.requestStream({ ...falAddressOf(target), accept: 'text/event-stream' }, deadline))
        if (response.statusCode !== 200 || !String(response.headers['content-type']).startsWith('text/event-stream')) {
          await response.body.dump().catch(() => {})
          throw new FalFailure({ kind: 'malformed' }, { excerpt: credentials.excerpt(`a ${response.statusCode} answer of type ${String(response.headers['content-type'])} to a status stream`) })
        }
        return response.body
      })
    },

    relay,

    async openRunStream (target, call) {
      // Long-lived like a status stream, so on the streams' pool: polls and submits keep theirs.
      return await policy('run-stream', call.signal, async deadline => {
        const response = await events.watch('run-stream', modelOf(target), () => streams.requestStream({ ...falAddressOf(target), accept: 'text/event-stream', jobHeaders: call.jobHeaders, body: call.body }, deadline))
        return { headers: response.headers, events: response.body }
      })
    }
  }
}

/**
 * The model a call is about, as metrics label it: the endpoint a submit or run names, the app
 * of a request (fal addresses those by app id), none for a storage upload.
 */
function modelOf (target: FalTarget): string {
  switch (target.operation) {
    case 'submit': case 'run': return target.endpointId
    case 'status': case 'stream': case 'result': case 'cancel': return target.appId
    case 'upload': return 'storage'
  }
}

function priorityOf (headers: Record<string, string> | undefined): 'low' | 'normal' | undefined {
  const priority = headers?.['x-fal-queue-priority']
  return priority === 'low' || priority === 'normal' ? priority : undefined
}
