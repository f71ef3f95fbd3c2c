import { pipeline, type Readable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { FastifyReply } from 'fastify'
import type { Config } from '../../config.js'
import { logContextOf } from '../../logger.js'
import type { TSchema } from '@sinclair/typebox'
import type { CatalogEndpoint } from '../../catalog/catalog-endpoint.js'
import { errorResponses } from '../../schemas/errors.js'
import {
  CancelResponseSchema,
  QueueStatusSchema,
  type QueueStatus,
  RequestIdParamsSchema,
  StatusQuerySchema,
  SubmitQuerySchema
} from '../../schemas/queue.js'
import { abortWhenClientLeaves } from '../../http/client-abort.js'
import { appIdOf } from '../../upstream/endpoint-id.js'
import { publicBase, queueUrls } from '../../http/public-url.js'
import { falHeadersOf } from '../../http/fal-headers.js'
import { rewriteSseData } from '../../http/sse-rewrite.js'

/** What the routes about an app's requests describe: the app, and the results its endpoints give. */
export interface AppRequests {
  title: string
  output: TSchema
}

/**
 * The typed queue routes of one catalog endpoint: its submit, and (with `requests`, once per app
 * id) the status, status stream, result and cancel routes, which fal addresses by the app id.
 */
const modelRoutes: FastifyPluginAsyncTypebox<{ endpoint: CatalogEndpoint, config: Config, requests?: AppRequests }> = async (fastify, { endpoint, config, requests }) => {
  const { fal } = fastify.upstream
  const { jobs } = fastify
  // fal's rule: the submit goes to the whole endpoint id, the calls about its request to the app id.
  const appId = appIdOf(endpoint.id)
  const base = `/queue/${endpoint.id}`
  const requestBase = `/queue/${appId}/requests/:requestId`
  const tags = ['queue']

  fastify.post(base, {
    schema: {
      tags,
      summary: `Submit a ${endpoint.title} job`,
      body: endpoint.input,
      querystring: SubmitQuerySchema,
      response: { 202: QueueStatusSchema, ...errorResponses(400, 401, 403, 404, 413, 415, 422, 429, 502, 503, 504) }
    },
    onRequest: async (request, reply) => { await fastify.admit(request, reply, 'submit', { appId: endpoint.id }) }
  }, async (request, reply) => {
    const { clientWebhook, falWebhook: webhookUrl } = fastify.submitWebhook.resolve(request.query.fal_webhook)
    const input = request.body as Record<string, unknown>
    const { requestId, answer, replayed } = await jobs.submit(request, reply, {
      endpointId: endpoint.id,
      input,
      variant: { route: 'queue', webhook: request.query.fal_webhook ?? null },
      sentBy: 'submit',
      send: async () => {
        // No client signal: a submit that has left is the client's job whatever the client does.
        const submitted = await fal.submit({ operation: 'submit', endpointId: endpoint.id, webhookUrl }, { input, jobHeaders: falHeadersOf(request.headers) })
        const body: QueueStatus = {
          request_id: submitted.requestId,
          status: 'IN_QUEUE',
          queue_position: submitted.queuePosition,
          ...queueUrls(publicBase(request, config.publicUrl), endpoint.id, submitted.requestId)
        }
        return { requestId: submitted.requestId, answer: { statusCode: 202, contentType: 'application/json; charset=utf-8', body: JSON.stringify(body) } }
      }
    })
    logContextOf(request.log).falRequestId = requestId
    if (!replayed) {
      request.log.info({ model: endpoint.id }, 'submitted to fal')
      await fastify.submitWebhook.accepted(request, requestId, clientWebhook)
    }
    // The stored text as it was first sent (a replay must be byte for byte the same), not re-serialized.
    return (reply as FastifyReply).code(answer.statusCode).type(answer.contentType).send(answer.body)
  })

  // Status, result and cancel belong to the app: registered once for all its endpoints.
  if (requests === undefined) return

  fastify.get(`${requestBase}/status`, {
    schema: {
      tags,
      summary: `Status of a ${requests.title} job`,
      params: RequestIdParamsSchema,
      querystring: StatusQuerySchema,
      response: { 200: QueueStatusSchema, 202: QueueStatusSchema, ...errorResponses(401, 403, 404, 422, 429, 502, 503, 504) }
    },
    onRequest: async (request, reply) => { await fastify.admit(request, reply, 'status', { appId, requestId: request.params.requestId }) }
  }, async (request, reply) => {
    const { requestId } = request.params
    await fastify.assertOwner(request, requestId)
    const logs = request.query.logs === '1' || request.query.logs === 'true'
    const upstream = await fal.status({ operation: 'status', appId, requestId, logs }, abortWhenClientLeaves(reply))
    const status = upstream.body as QueueStatus
    jobs.statusSeen(request, requestId, status)
    return reply.code(upstream.statusCode === 200 ? 200 : 202).send({
      ...status,
      request_id: requestId,
      ...queueUrls(publicBase(request, config.publicUrl), endpoint.id, requestId)
    })
  })

  fastify.get(`${requestBase}/status/stream`, {
    schema: {
      tags,
      summary: `Status of a ${requests.title} job as server-sent events, until it completes`,
      params: RequestIdParamsSchema,
      querystring: StatusQuerySchema,
      produces: ['text/event-stream'],
      response: {
        200: Type.Unsafe<Readable>({ type: 'string', description: 'Server-sent events; each `data:` line is a QueueStatus.' }),
        ...errorResponses(401, 403, 404, 422, 429, 502, 503, 504)
      }
    },
    onRequest: async (request, reply) => { await fastify.admit(request, reply, 'stream', { appId, requestId: request.params.requestId }) }
  }, async (request, reply) => {
    const { requestId } = request.params
    await fastify.assertOwner(request, requestId)
    const logs = request.query.logs === '1' || request.query.logs === 'true'
    const upstream = await fastify.statusStreams.open(request, reply, { operation: 'stream', appId, requestId, logs })
    const urls = queueUrls(publicBase(request, config.publicUrl), endpoint.id, requestId)
    // fal (or the webhook's outcome) ends the stream when the job completes; a cut proves nothing.
    upstream.once('end', () => { jobs.finished(request, requestId) })
    // pipeline, not pipe: when the client's stream ends early (a drain, an error), its listening ends too.
    const events = pipeline(upstream, rewriteSseData(status => ({ ...status, request_id: requestId, ...urls })), () => {})
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(events)
  })

  fastify.get(requestBase, {
    schema: {
      tags,
      summary: `Result of a completed ${requests.title} job`,
      params: RequestIdParamsSchema,
      response: { 200: requests.output, ...errorResponses(400, 401, 403, 404, 422, 429, 502, 503, 504) }
    },
    onRequest: async (request, reply) => { await fastify.admit(request, reply, 'result', { appId, requestId: request.params.requestId }) }
  }, async (request, reply) => {
    const { requestId } = request.params
    await fastify.assertOwner(request, requestId)
    const upstream = await fal.result({ operation: 'result', appId, requestId }, abortWhenClientLeaves(reply))
    jobs.resultSeen(request, requestId, appId, upstream.body)
    return reply.header('x-fal-request-id', requestId).send(upstream.body as Record<string, unknown>)
  })

  fastify.put(`${requestBase}/cancel`, {
    schema: {
      tags,
      summary: `Cancel a ${requests.title} job`,
      params: RequestIdParamsSchema,
      response: { 202: CancelResponseSchema, ...errorResponses(400, 401, 403, 404, 422, 429, 502, 503, 504) }
    },
    onRequest: async (request, reply) => { await fastify.admit(request, reply, 'cancel', { appId, requestId: request.params.requestId }) }
  }, async (request, reply) => {
    const { requestId } = request.params
    await fastify.assertOwner(request, requestId)
    await fal.cancel({ operation: 'cancel', appId, requestId }, abortWhenClientLeaves(reply))
    jobs.cancelled(request, requestId, appId)
    return reply.code(202).send({ status: 'CANCELLATION_REQUESTED' })
  })
}

export default modelRoutes
