import { randomUUID } from 'node:crypto'
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import type { Config } from '../config.js'
import { logContextOf } from '../logger.js'
import { IdempotencyKeyInvalid, InternalError, TargetNotAllowed, UpstreamRejected, ValidationFailed } from '../errors/gateway-errors.js'
import { FalFailure } from '../upstream/fal-failure.js'
import { toFieldErrors } from '../errors/validation-detail.js'
import { createTargetResolver, type ProxySubmit, type ProxyTarget } from '../proxy/proxy-target.js'
import { UploadInitiateSchema } from '../proxy/upload-initiate.js'
import type { AdmissionTarget } from '../plugins/app/admission.js'
import { abortWhenClientLeaves } from '../http/client-abort.js'
import { falHeadersOf } from '../http/fal-headers.js'
import { departureWithin } from '../upstream/departure.js'
import type { OpenedRunStream, RelayCall, RelayedAnswer } from '../upstream/fal-upstream.js'
import type { CancelTarget, ResultTarget, RunTarget, StatusTarget, StreamTarget, UploadTarget } from '../upstream/fal-target.js'

declare module 'fastify' {
  interface FastifyRequest {
    proxyTarget: ProxyTarget
  }
}

/** Response headers a client of the proxy may see: nothing else of fal's (no set-cookie). */
const RESPONSE_HEADERS = ['content-type', 'x-fal-request-id', 'retry-after'] as const

/** What admission checks of a target: the model (the tier's allowlist) and the request (its owner). */
function admissionTargetOf (target: ProxyTarget): AdmissionTarget {
  switch (target.operation) {
    case 'submit':
    case 'run': return { appId: target.endpointId }
    case 'upload': return {}
    default: return { appId: target.appId, requestId: target.requestId }
  }
}

/**
 * `/api/fal/proxy`: the proxy protocol of `@fal-ai/client` (`fal.config({ proxyUrl })`), so an
 * existing app changes one line. Unlike fal's own proxy it forwards only allowlisted targets,
 * validates submits with the same schemas as the typed routes, charges the same budgets, and
 * never copies the caller's credentials or fal's cookies.
 */
const proxyRoutes: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const { fal } = fastify.upstream
  const resolveTarget = createTargetResolver(fastify.catalog)
  // Set by onRequest before any handler reads it.
  fastify.decorateRequest<ProxyTarget | null>('proxyTarget', null)

  function validateBody (request: FastifyRequest, schema: TSchema | undefined): void {
    if (schema === undefined) return
    const validate = request.compileValidationSchema(schema, 'body')
    if (!validate(request.body)) throw new ValidationFailed(toFieldErrors(validate.errors ?? [], 'body'))
  }

  /** The caller's body and job options, and its leaving; the upstream layer adds the rest. */
  function relayCall (request: FastifyRequest, reply: FastifyReply, hasBody: boolean): RelayCall {
    return {
      body: hasBody ? JSON.stringify(request.body) : undefined,
      jobHeaders: falHeadersOf(request.headers),
      signal: abortWhenClientLeaves(reply)
    }
  }

  function copyHeaders (answer: RelayedAnswer, reply: FastifyReply): FastifyReply {
    for (const name of RESPONSE_HEADERS) {
      const value = answer.headers[name]
      if (typeof value === 'string') reply.header(name, value)
    }
    return reply.code(answer.statusCode)
  }

  /** A submit goes through the jobs pipeline: priced, budgeted, idempotent, in a job slot. */
  async function submit (request: FastifyRequest, reply: FastifyReply, target: ProxySubmit): Promise<FastifyReply> {
    validateBody(request, fastify.catalog.find(target.endpointId)?.input)
    const { clientWebhook, falWebhook: webhookUrl } = fastify.submitWebhook.resolve(target.webhook)
    const { requestId, answer, replayed } = await fastify.jobs.submit(request, reply, {
      endpointId: target.endpointId,
      input: request.body as Record<string, unknown>,
      variant: { route: 'proxy', webhook: target.webhook ?? null },
      sentBy: 'submit',
      send: async () => {
        // No client signal: a submit that has left is the client's job whatever the client does.
        const relayed = await fal.relay({ operation: 'submit', endpointId: target.endpointId, webhookUrl }, { body: JSON.stringify(request.body), jobHeaders: falHeadersOf(request.headers) })
        return { requestId: relayed.requestId, answer: { statusCode: relayed.statusCode, contentType: String(relayed.headers['content-type'] ?? 'application/json'), body: relayed.text } }
      }
    })
    logContextOf(request.log).falRequestId = requestId
    if (!replayed) {
      request.log.info({ model: target.endpointId }, 'submitted to fal')
      await fastify.submitWebhook.accepted(request, requestId, clientWebhook)
    }
    // `@fal-ai/client` reads the request id from this header.
    return reply.code(answer.statusCode).type(answer.contentType).header('x-fal-request-id', requestId).send(answer.body)
  }

  /**
   * `fal.run` and `fal.stream`: the same pipeline as a submit (validation, price, budgets, job
   * slot, quota, owner). The job is over when fal's answer is (the whole output, or the stream's
   * end), so the slot is given back then; fal's request id (or one of the gateway's, when fal
   * sends none) is recorded as the client's, as a submit's is.
   */
  async function run (request: FastifyRequest, reply: FastifyReply, target: RunTarget): Promise<FastifyReply> {
    validateBody(request, fastify.catalog.find(target.endpointId)?.input)
    if (target.stream) return await runStream(request, reply, target)
    const { requestId, answer, replayed } = await fastify.jobs.submit(request, reply, {
      endpointId: target.endpointId,
      input: request.body as Record<string, unknown>,
      variant: { route: 'run' },
      sentBy: 'run',
      send: async () => {
        // No client signal: a run that has left is the client's job whatever the client does.
        const relayed = await fal.relay(target, { body: JSON.stringify(request.body), jobHeaders: falHeadersOf(request.headers) })
        const requestId = requestIdOf(relayed.headers['x-fal-request-id'])
        return { requestId, answer: { statusCode: relayed.statusCode, contentType: String(relayed.headers['content-type'] ?? 'application/json'), body: relayed.text } }
      }
    })
    logContextOf(request.log).falRequestId = requestId
    if (!replayed) {
      request.log.info({ model: target.endpointId }, 'ran on fal')
      // The output is the result: charged for what it produced, the slot free again.
      fastify.jobs.resultSeen(request, requestId, target.endpointId, parseJson(answer.body))
    }
    return reply.code(answer.statusCode).type(answer.contentType).header('x-fal-request-id', requestId).send(answer.body)
  }

  async function runStream (request: FastifyRequest, reply: FastifyReply, target: RunTarget): Promise<FastifyReply> {
    // A stream cannot be answered twice: a key would promise a replay it cannot keep.
    if (request.headers['idempotency-key'] !== undefined) throw new IdempotencyKeyInvalid()
    // The stream's lifetime is bounded here, as a status stream's is; its timer goes with it.
    const lifetime = departureWithin(abortWhenClientLeaves(reply), config.streamTimeoutMs)
    const opened: { stream?: OpenedRunStream } = {}
    const { requestId } = await fastify.jobs.submit(request, reply, {
      endpointId: target.endpointId,
      input: request.body as Record<string, unknown>,
      sentBy: 'run',
      send: async () => {
        opened.stream = await fal.openRunStream(target, { body: JSON.stringify(request.body), jobHeaders: falHeadersOf(request.headers), signal: lifetime })
        return { requestId: requestIdOf(opened.stream.headers['x-fal-request-id']), answer: { statusCode: 200, contentType: 'text/event-stream', body: '' } }
      }
    }).catch((error: unknown) => {
      lifetime.dispose()
      throw notStreaming(error, target.endpointId)
    })
    const stream = opened.stream
    if (stream === undefined) throw new InternalError()
    logContextOf(request.log).falRequestId = requestId
    request.log.info({ model: target.endpointId }, 'streaming a run from fal')
    stream.events.once('close', () => {
      lifetime.dispose()
      // The partial outputs are not read: the job is charged what was reserved for it.
      fastify.jobs.resultSeen(request, requestId, target.endpointId, undefined)
    })
    const contentType = stream.headers['content-type']
    return reply
      .header('content-type', typeof contentType === 'string' ? contentType : 'text/event-stream; charset=utf-8')
      .header('x-fal-request-id', requestId)
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(stream.events)
  }

  /** Status and result polls share the typed routes' path to fal: coalesced, cached, retried. */
  async function poll (request: FastifyRequest, reply: FastifyReply, target: StatusTarget | ResultTarget): Promise<FastifyReply> {
    const signal = abortWhenClientLeaves(reply)
    const answer = target.operation === 'status' ? await fal.status(target, signal) : await fal.result(target, signal)
    if (target.operation === 'result') fastify.jobs.resultSeen(request, target.requestId, target.appId, answer.body)
    else fastify.jobs.statusSeen(request, target.requestId, answer.body)
    // `@fal-ai/client` reads the result's request id from this header.
    return reply.code(answer.statusCode).header('x-fal-request-id', target.requestId).send(answer.body)
  }

  /** The status stream, passed through as it arrives. */
  async function stream (request: FastifyRequest, reply: FastifyReply, target: StreamTarget): Promise<FastifyReply> {
    // One of the client's stream slots, a listener of the job's shared stream, bounded in time.
    const events = await fastify.statusStreams.open(request, reply, target)
    // fal (or the webhook's outcome) ends the stream when the job completes; a cut proves nothing.
    events.once('end', () => { fastify.jobs.finished(request, target.requestId) })
    // Server-sent events go out as they arrive; nothing between here and the client buffers them.
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('x-fal-request-id', target.requestId)
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(events)
  }

  /** Cancel and upload initiation: passed through as fal answers them (its 4xx too). */
  async function relay (request: FastifyRequest, reply: FastifyReply, target: CancelTarget | UploadTarget): Promise<FastifyReply> {
    const answer = await fal.relay(target, relayCall(request, reply, target.operation === 'upload'))
    if (target.operation === 'cancel' && answer.statusCode < 300) fastify.jobs.cancelled(request, target.requestId, target.appId)
    return copyHeaders(answer, reply).send(answer.text)
  }

  fastify.route({
    method: ['GET', 'POST', 'PUT'],
    url: '/api/fal/proxy',
    schema: { hide: true },
    onRequest: async (request, reply) => {
      const verdict = resolveTarget(request.headers['x-fal-target-url'], request.method)
      if (!verdict.ok) throw new TargetNotAllowed(verdict.reason)
      request.proxyTarget = verdict.target
      await fastify.admit(request, reply, verdict.target.operation, admissionTargetOf(verdict.target))
    },
    handler: async (request, reply) => {
      const target = request.proxyTarget
      switch (target.operation) {
        case 'submit': return await submit(request, reply, target)
        case 'run': return await run(request, reply, target)
        case 'upload':
          validateBody(request, UploadInitiateSchema)
          return await relay(request, reply, target)
      }
      await fastify.assertOwner(request, target.requestId)
      switch (target.operation) {
        case 'status':
        case 'result': return await poll(request, reply, target)
        case 'stream': return await stream(request, reply, target)
        case 'cancel': return await relay(request, reply, target)
      }
    }
  })
}

/** fal's 404 or 405 to a stream says the endpoint does not stream, not that a request is missing. */
function notStreaming (error: unknown, endpointId: string): unknown {
  if (!(error instanceof FalFailure) || error.outcome.kind !== 'answered' || ![404, 405].includes(error.outcome.status)) return error
  return new UpstreamRejected(error.outcome.status, `'${endpointId}' does not stream: use fal.subscribe or fal.run`)
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

/** fal's request id for a run; one of the gateway's when fal sent none (or nothing like one). */
function requestIdOf (header: string | string[] | undefined): string {
  return typeof header === 'string' && /^[\w-]{1,128}$/.test(header) ? header : randomUUID()
}

export default proxyRoutes
