import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { IncomingHttpHeaders } from 'node:http'
import type { Config } from '../config.js'
import { logContextOf } from '../logger.js'
import { findModel } from '../models/index.js'
import { TargetNotAllowed, ValidationFailed } from '../errors/gateway-errors.js'
import { toFieldErrors } from '../errors/validation-detail.js'
import { createTargetResolver, type ProxyTarget } from '../proxy/proxy-target.js'
import { UploadInitiateSchema } from '../proxy/upload-initiate.js'
import { abortWhenClientLeaves } from '../http/client-abort.js'
import { departureWithin, type Departure } from '../upstream/departure.js'
import { upstreamHeaders } from '../http/upstream-headers.js'
import { createWebhookCheck } from '../http/webhook-allowlist.js'
import type { ForwardRequest, RelayedAnswer } from '../upstream/raw-forward.js'
import { UpstreamMalformedError, httpErrorOf, parseJsonOrUndefined } from '../upstream/upstream-errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    proxyTarget: ProxyTarget
  }
}

/** Response headers a client of the proxy may see: nothing else of fal's (no set-cookie). */
const RESPONSE_HEADERS = ['content-type', 'x-fal-request-id', 'retry-after'] as const

/**
 * `/api/fal/proxy`: the proxy protocol of `@fal-ai/client` (`fal.config({ proxyUrl })`), so an
 * existing app changes one line. Unlike fal's own proxy it forwards only allowlisted targets,
 * validates submits with the same schemas as the typed routes, charges the same budgets, and
 * never copies the caller's credentials or fal's cookies.
 */
const proxyRoutes: FastifyPluginAsync<{ config: Config }> = async (fastify, { config }) => {
  const { forward, endpoints, reader } = fastify.upstream
  const authorization = `Key ${config.falKey}`
  const checkWebhook = createWebhookCheck(config.webhookHosts)
  const resolveTarget = createTargetResolver()
  fastify.decorateRequest('proxyTarget', null as unknown as ProxyTarget)

  function validateBody (request: FastifyRequest, target: ProxyTarget): void {
    const schema = target.operation === 'upload' ? UploadInitiateSchema : findModel(target.appId as string)?.input
    if (schema === undefined) return
    const validate = request.compileValidationSchema(schema, 'body')
    if (!validate(request.body)) throw ValidationFailed(toFieldErrors(validate.errors ?? [], 'body'))
  }

  function forwardRequest (request: FastifyRequest, reply: FastifyReply, target: ProxyTarget, signal: Departure = abortWhenClientLeaves(reply)): ForwardRequest {
    const hasBody = target.operation === 'submit' || target.operation === 'upload'
    return {
      base: target.host === 'queue' ? endpoints.queue : endpoints.rest,
      method: request.method as 'GET' | 'POST' | 'PUT',
      pathAndQuery: target.pathAndQuery,
      headers: upstreamHeaders(authorization, request.headers, hasBody, target.operation === 'stream' ? 'text/event-stream' : 'application/json'),
      body: hasBody ? JSON.stringify(request.body) : undefined,
      // The upstream layer adds each operation's deadline.
      signal
    }
  }

  function copyHeaders (upstream: { statusCode: number, headers: IncomingHttpHeaders }, reply: FastifyReply): FastifyReply {
    for (const name of RESPONSE_HEADERS) {
      const value = upstream.headers[name]
      if (typeof value === 'string') reply.header(name, value)
    }
    return reply.code(upstream.statusCode)
  }

  /** A submit runs in a job slot; only one fal accepted records its owner, any other gives it back. */
  async function submit (request: FastifyRequest, reply: FastifyReply, target: ProxyTarget): Promise<FastifyReply> {
    let answer: RelayedAnswer | undefined
    const requestId = await fastify.jobs.submit(request, reply, async () => {
      answer = await forward.relay('submit', forwardRequest(request, reply, target))
      if (answer.statusCode >= 300) throw httpErrorOf(answer.statusCode, answer.text, answer.headers['retry-after'])
      const id = (parseJsonOrUndefined(answer.text) as { request_id?: unknown } | undefined)?.request_id
      if (typeof id !== 'string') throw new UpstreamMalformedError()
      return id
    })
    logContextOf(request.log).falRequestId = requestId
    request.log.info({ model: target.appId }, 'submitted to fal')
    const accepted = answer as RelayedAnswer
    return copyHeaders(accepted, reply).send(accepted.text)
  }

  /** Status and result polls share the typed routes' path to fal: coalesced, cached, retried. */
  async function poll (request: FastifyRequest, reply: FastifyReply, target: ProxyTarget): Promise<FastifyReply> {
    const appId = target.appId as string
    const requestId = target.requestId as string
    const signal = abortWhenClientLeaves(reply)
    const answer = target.operation === 'status'
      ? await reader.status(appId, requestId, target.logs === true, signal)
      : await reader.result(appId, requestId, signal)
    if (target.operation === 'result' || (answer.body as { status?: unknown }).status === 'COMPLETED') {
      fastify.jobs.finished(request, requestId)
    }
    // `@fal-ai/client` reads the result's request id from this header.
    return reply.code(answer.statusCode).header('x-fal-request-id', requestId).send(answer.body)
  }

  /** The status stream, passed through as it arrives. */
  async function stream (request: FastifyRequest, reply: FastifyReply, target: ProxyTarget): Promise<FastifyReply> {
    // A stream's lifetime is bounded here; its timer goes with the stream.
    const lifetime = departureWithin(abortWhenClientLeaves(reply), config.streamTimeoutMs)
    const upstream = await forward.stream(forwardRequest(request, reply, target, lifetime)).catch((error: unknown) => {
      lifetime.dispose()
      throw error
    })
    upstream.body.once('close', lifetime.dispose)
    copyHeaders(upstream, reply)
    if (upstream.statusCode !== 200) return reply.send(await upstream.body.text())
    // fal ends the stream when the job completes; a stream cut short proves nothing.
    upstream.body.once('end', () => { fastify.jobs.finished(request, target.requestId as string) })
    // Server-sent events go out as they arrive; nothing between here and the client buffers them.
    return reply.header('cache-control', 'no-cache').header('x-accel-buffering', 'no').send(upstream.body)
  }

  /** Cancel and upload initiation: passed through as fal answers them (its 4xx too). */
  async function relay (request: FastifyRequest, reply: FastifyReply, target: ProxyTarget): Promise<FastifyReply> {
    const answer = await forward.relay(target.operation, forwardRequest(request, reply, target))
    if (target.operation === 'cancel' && answer.statusCode < 300) fastify.jobs.finished(request, target.requestId as string)
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
      await fastify.admit(request, reply, verdict.target.operation, verdict.target)
    },
    handler: async (request, reply) => {
      const target = request.proxyTarget
      if (target.requestId !== undefined) await fastify.assertOwner(request, target.requestId)
      if (target.operation === 'submit' || target.operation === 'upload') validateBody(request, target)
      if (target.webhook !== undefined) checkWebhook(target.webhook)
      switch (target.operation) {
        case 'submit': return await submit(request, reply, target)
        case 'status':
        case 'result': return await poll(request, reply, target)
        case 'stream': return await stream(request, reply, target)
        default: return await relay(request, reply, target)
      }
    }
  })
}

export default proxyRoutes
