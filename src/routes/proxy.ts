import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { TSchema } from '@sinclair/typebox'
import type { Config } from '../config.js'
import { logContextOf } from '../logger.js'
import { findModel } from '../models/index.js'
import { TargetNotAllowed, ValidationFailed } from '../errors/gateway-errors.js'
import { toFieldErrors } from '../errors/validation-detail.js'
import { createTargetResolver, type ProxySubmit, type ProxyTarget } from '../proxy/proxy-target.js'
import { UploadInitiateSchema } from '../proxy/upload-initiate.js'
import type { AdmissionTarget } from '../plugins/app/admission.js'
import { abortWhenClientLeaves } from '../http/client-abort.js'
import { falHeadersOf } from '../http/fal-headers.js'
import { createWebhookCheck } from '../http/webhook-allowlist.js'
import { departureWithin } from '../upstream/departure.js'
import type { RelayCall, RelayedAnswer } from '../upstream/fal-upstream.js'
import type { CancelTarget, ResultTarget, StatusTarget, StreamTarget, UploadTarget } from '../upstream/fal-target.js'

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
    case 'submit': return { appId: target.endpointId }
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
  const checkWebhook = createWebhookCheck(config.webhookHosts)
  const resolveTarget = createTargetResolver()
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
    validateBody(request, findModel(target.endpointId)?.input)
    const webhookUrl = target.webhook === undefined ? undefined : checkWebhook(target.webhook)
    const { requestId, answer, replayed } = await fastify.jobs.submit(request, reply, {
      endpointId: target.endpointId,
      input: request.body as Record<string, unknown>,
      variant: { route: 'proxy', webhookUrl: webhookUrl ?? null },
      send: async () => {
        // No client signal: a submit that has left is the client's job whatever the client does.
        const relayed = await fal.relay({ operation: 'submit', endpointId: target.endpointId, webhookUrl }, { body: JSON.stringify(request.body), jobHeaders: falHeadersOf(request.headers) })
        return { requestId: relayed.requestId, answer: { statusCode: relayed.statusCode, contentType: String(relayed.headers['content-type'] ?? 'application/json'), body: relayed.text } }
      }
    })
    logContextOf(request.log).falRequestId = requestId
    if (!replayed) request.log.info({ model: target.endpointId }, 'submitted to fal')
    // `@fal-ai/client` reads the request id from this header.
    return reply.code(answer.statusCode).type(answer.contentType).header('x-fal-request-id', requestId).send(answer.body)
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
    // A stream's lifetime is bounded here; its timer goes with the stream.
    const lifetime = departureWithin(abortWhenClientLeaves(reply), config.streamTimeoutMs)
    const events = await fal.openStatusStream(target, lifetime).catch((error: unknown) => {
      lifetime.dispose()
      throw error
    })
    events.once('close', lifetime.dispose)
    // fal ends the stream when the job completes; a stream cut short proves nothing.
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

export default proxyRoutes
