import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify'
import type { Dispatcher } from 'undici'
import type { Config } from '../config.js'
import { findModel } from '../models/index.js'
import { TargetNotAllowed, ValidationFailed } from '../errors/gateway-errors.js'
import { toFieldErrors } from '../errors/validation-detail.js'
import { resolveProxyTarget, type ProxyTarget } from '../proxy/proxy-target.js'
import { UploadInitiateSchema } from '../proxy/upload-initiate.js'
import { abortWhenClientLeaves } from '../http/client-abort.js'
import { upstreamHeaders } from '../http/upstream-headers.js'
import { createWebhookCheck } from '../http/webhook-allowlist.js'
import { forwardRaw } from '../upstream/raw-forward.js'
import { UpstreamHttpError, parseRetryAfter } from '../upstream/upstream-errors.js'

declare module 'fastify' {
  interface FastifyRequest {
    proxyTarget: ProxyTarget
  }
}

/** Upstream answers the proxy passes on as they are; the rest become gateway errors. */
function isPassedThrough (statusCode: number): boolean {
  return statusCode < 500 && statusCode !== 401 && statusCode !== 403 && statusCode !== 429
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
  const { pool, endpoints } = fastify.upstream
  const authorization = `Key ${config.falKey}`
  const checkWebhook = createWebhookCheck(config.webhookHosts)
  fastify.decorateRequest('proxyTarget', null as unknown as ProxyTarget)

  function validateBody (request: FastifyRequest, target: ProxyTarget): void {
    const schema = target.operation === 'upload' ? UploadInitiateSchema : findModel(target.appId as string)?.input
    if (schema === undefined) return
    const validate = request.compileValidationSchema(schema, 'body')
    if (!validate(request.body)) throw ValidationFailed(toFieldErrors(validate.errors ?? [], 'body'))
  }

  async function relay (target: ProxyTarget, upstream: Dispatcher.ResponseData, reply: FastifyReply): Promise<FastifyReply> {
    for (const name of RESPONSE_HEADERS) {
      const value = upstream.headers[name]
      if (typeof value === 'string') reply.header(name, value)
    }
    reply.code(upstream.statusCode)
    if (target.operation === 'stream' && upstream.statusCode === 200) {
      // Server-sent events go out as they arrive; nothing between here and the client buffers them.
      return reply.header('cache-control', 'no-cache').header('x-accel-buffering', 'no').send(upstream.body)
    }
    const text = await upstream.body.text()
    if (target.operation === 'submit' && upstream.statusCode < 300) {
      reply.request.log.info({ falRequestId: requestIdOf(text), model: target.appId }, 'submitted to fal')
    }
    return reply.send(text)
  }

  fastify.route({
    method: ['GET', 'POST', 'PUT'],
    url: '/api/fal/proxy',
    schema: { hide: true },
    onRequest: async (request, reply) => {
      const verdict = resolveProxyTarget(request.headers['x-fal-target-url'], request.method)
      if (!verdict.ok) throw new TargetNotAllowed(verdict.reason)
      request.proxyTarget = verdict.target
      await fastify.admit(request, reply, verdict.target.operation)
    },
    handler: async (request, reply) => {
      const target = request.proxyTarget
      const hasBody = target.operation === 'submit' || target.operation === 'upload'
      if (hasBody) validateBody(request, target)
      if (target.webhook !== undefined) checkWebhook(target.webhook)

      const timeoutMs = target.operation === 'stream' ? config.streamTimeoutMs : config.upstreamTimeoutMs
      const signal = AbortSignal.any([abortWhenClientLeaves(reply), AbortSignal.timeout(timeoutMs)])
      const upstream = await forwardRaw(pool, {
        base: target.host === 'queue' ? endpoints.queue : endpoints.rest,
        method: request.method as 'GET' | 'POST' | 'PUT',
        pathAndQuery: target.pathAndQuery,
        headers: upstreamHeaders(authorization, request.headers, hasBody, target.operation === 'stream' ? 'text/event-stream' : 'application/json'),
        body: hasBody ? JSON.stringify(request.body) : undefined,
        signal
      })
      if (!isPassedThrough(upstream.statusCode)) {
        const body = await upstream.body.json().catch(() => undefined)
        throw new UpstreamHttpError(upstream.statusCode, body, parseRetryAfter(upstream.headers['retry-after']))
      }
      return relay(target, upstream, reply)
    }
  })
}

function requestIdOf (text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { request_id?: unknown }).request_id
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}

export default proxyRoutes
