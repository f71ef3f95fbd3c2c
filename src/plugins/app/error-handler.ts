import fp from 'fastify-plugin'
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify'
import { STATUS_CODES } from 'node:http'
import { FalFailure } from '../../upstream/fal-failure.js'
import { fromUpstream } from '../../errors/from-upstream.js'
import { API_SECURITY_HEADERS } from './api-security-headers.js'
import { discardBody } from '../../http/discard-body.js'
import {
  BadRequest,
  BodyTooLarge,
  InternalError,
  InvalidJson,
  RouteNotFound,
  UnsupportedMediaType,
  type FieldError
} from '../../errors/gateway-errors.js'

/**
 * How much of an unread body is read and discarded before an answer that closes the connection
 * (a 413 above all), so that the client can read the answer (http/discard-body.ts).
 */
const MAX_DISCARDED_BYTES = 64 * 1024 * 1024

interface GatewayErrorShape {
  statusCode?: number
  code?: string
  message: string
  detail?: FieldError[]
  retryAfterSeconds?: number
}

/** Fastify's own client errors, renamed to the gateway's stable codes. */
function fromFastify (error: FastifyError, request: FastifyRequest): GatewayErrorShape {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new BodyTooLarge(String(request.routeOptions.bodyLimit))
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return new UnsupportedMediaType()
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return new InvalidJson()
  }
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 && !error.code?.startsWith('FST_')) return error
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) return new BadRequest(error.message)
  return error
}

/**
 * The one place errors become responses: `{ statusCode, code, error, message }` (and fal's
 * `detail` list for validation). A 5xx body never carries a stack, a host name or the key.
 */
export default fp(async function errorHandler (fastify) {
  fastify.setErrorHandler(function handle (rawError: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    const error: GatewayErrorShape = rawError instanceof FalFailure ? fromUpstream(rawError) : fromFastify(rawError, request)
    let statusCode = error.statusCode ?? 500
    let body: GatewayErrorShape = error
    // Only the gateway's own errors speak for themselves; a Node or library error with a code but
    // no status (ECONNREFUSED and its address, say) is an internal error like any other.
    if (statusCode >= 500 && (error.statusCode === undefined || error.code === undefined || error.code.startsWith('FST_'))) {
      request.log.error({ err: rawError }, 'unhandled error')
      body = new InternalError()
      statusCode = 500
    } else if (error.code === 'GATEWAY_MISCONFIGURED') {
      request.log.error({ err: rawError }, 'fal refused the gateway\'s credentials: check FAL_KEY')
    } else if (statusCode >= 500) {
      request.log.warn({ err: rawError, code: error.code }, 'upstream or dependency failure')
    }
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds))
    // Errors raised before a route's own hooks (404s, load shedding, draining) get them here.
    reply.headers(API_SECURITY_HEADERS)
    const answer = {
      statusCode,
      code: body.code ?? 'ERROR',
      error: STATUS_CODES[statusCode] ?? 'Error',
      message: body.message,
      ...(body.detail === undefined ? {} : { detail: body.detail })
    }
    // Not an async handler: Fastify would send its undefined result again while onSend hooks run.
    if (reply.getHeader('connection') !== 'close') {
      reply.code(statusCode).send(answer)
      return
    }
    discardBody(request.raw, MAX_DISCARDED_BYTES)
      .then(() => { reply.code(statusCode).send(answer) })
      .catch((error: unknown) => { request.log.error({ err: error }, 'could not answer after discarding the body') })
  })

  fastify.setNotFoundHandler(function notFound (request, reply) {
    reply.send(new RouteNotFound(request.method, request.url.split('?')[0]?.slice(0, 200)))
  })
}, { name: 'error-handler' })
