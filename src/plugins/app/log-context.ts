import fp from 'fastify-plugin'
import type { FastifyRequest } from 'fastify'

declare module 'fastify' {
  interface FastifyRequest {
    /** fal's request id once this request is known to concern one (logged as `falRequestId`). */
    falRequestId: string | undefined
  }
}

const MAX_PARSED_BYTES = 16 * 1024

function requestIdOf (payload: unknown): string | undefined {
  if (typeof payload !== 'string' || payload.length > MAX_PARSED_BYTES) return undefined
  try {
    const id = (JSON.parse(payload) as { request_id?: unknown }).request_id
    return typeof id === 'string' ? id : undefined
  } catch {
    return undefined
  }
}

function withFalRequestId (request: FastifyRequest, falRequestId: string | undefined): void {
  if (falRequestId === undefined || request.falRequestId !== undefined) return
  request.falRequestId = falRequestId
  request.log = request.log.child({ falRequestId })
}

/**
 * Every log line of a request carries its id (Fastify's `reqId`), the client id once admission
 * has identified it, and fal's request id once known: from the URL for status, result, cancel and
 * streams, from fal's answer for a submit. Fastify writes its "request completed" line through
 * `reply.log`, which admission's child logger does not reach, so it is brought up to date here.
 */
export default fp(async function logContext (fastify) {
  fastify.decorateRequest('falRequestId', undefined)

  fastify.addHook('preHandler', async (request) => {
    const fromParams = (request.params as { requestId?: unknown } | undefined)?.requestId
    const fromProxy = (request as { proxyTarget?: { requestId?: string } | null }).proxyTarget?.requestId
    withFalRequestId(request, typeof fromParams === 'string' ? fromParams : fromProxy)
  })

  fastify.addHook('onSend', async (request, reply, payload) => {
    if (request.method === 'POST' && reply.statusCode < 300) withFalRequestId(request, requestIdOf(payload))
    reply.log = request.log
    return payload
  })
}, { name: 'log-context' })
