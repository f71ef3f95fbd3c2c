import { PassThrough, type Readable } from 'node:stream'
import fp from 'fastify-plugin'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../config.js'
import { publicBase, queueUrls } from '../http/public-url.js'
import { errorResponses } from '../schemas/errors.js'
import type { JobOutcome } from './outcome-store.js'

const ParamsSchema = Type.Object({
  owner: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
  alias: Type.String({ pattern: '^[A-Za-z0-9._-]{1,128}$' }),
  requestId: Type.String({ format: 'uuid', description: "fal's request id (a UUID), as returned by submit." })
})

/** The one `outcome` event: fal's webhook body (without its gateway id) and where the result is. */
function outcomeEvent (outcome: JobOutcome, responseUrl: string): string {
  const delivered = outcome.body === undefined ? {} : JSON.parse(outcome.body) as { payload?: unknown, payload_error?: unknown }
  const data = {
    request_id: outcome.requestId,
    status: outcome.status,
    ...(delivered.payload === undefined ? {} : { payload: delivered.payload }),
    ...(outcome.error === undefined ? {} : { error: outcome.error }),
    ...(delivered.payload_error === undefined || delivered.payload_error === null ? {} : { payload_error: delivered.payload_error }),
    response_url: responseUrl
  }
  return `event: outcome\ndata: ${JSON.stringify(data)}\n\n`
}

const eventsRoute: FastifyPluginAsyncTypebox<{ config: Config }> = async (fastify, { config }) => {
  fastify.get('/queue/:owner/:alias/requests/:requestId/events', {
    schema: {
      tags: ['queue'],
      summary: "A job's outcome as one server-sent event, on whichever replica fal's webhook reached",
      description: 'Sends `event: outcome` once (`data`: `{ request_id, status: "OK"|"ERROR", payload?, error?, response_url }`) and ends; comment lines keep a quiet stream open. Ends without an event after STREAM_TIMEOUT_MS.',
      params: ParamsSchema,
      produces: ['text/event-stream'],
      response: {
        200: Type.Unsafe<Readable>({ type: 'string', description: 'Server-sent events' }),
        ...errorResponses(401, 403, 404, 422, 429, 503)
      }
    },
    onRequest: async (request, reply) => {
      const { owner, alias, requestId } = request.params as { owner: string, alias: string, requestId: string }
      await fastify.admit(request, reply, 'stream', { appId: `${owner}/${alias}`, requestId })
    }
  }, async (request, reply) => {
    const { owner, alias } = request.params
    const requestId = request.params.requestId.toLowerCase()
    await fastify.assertOwner(request, requestId)
    fastify.streamSlots.take(request, reply)
    const responseUrl = queueUrls(publicBase(request, config.publicUrl), `${owner}/${alias}`, requestId).response_url

    const events = new PassThrough()
    const closed = new AbortController()
    const heartbeat = setInterval(() => { events.write(': heartbeat\n\n') }, config.eventsHeartbeatMs)
    const timeout = setTimeout(() => { closed.abort() }, config.streamTimeoutMs)
    events.once('close', () => {
      clearInterval(heartbeat)
      clearTimeout(timeout)
      closed.abort()
    })
    // The first bytes go out at once, so the browser's EventSource sees the stream open.
    events.write(': waiting for the outcome\n\n')
    fastify.outcomes.wait(requestId, closed.signal).then(
      outcome => { events.end(outcomeEvent(outcome, responseUrl)) },
      () => { events.end() }
    )
    return reply
      .header('content-type', 'text/event-stream; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('x-accel-buffering', 'no')
      .send(events)
  })
}

/** `GET /queue/{owner}/{alias}/requests/{id}/events`: the outcome pushed to a browser, once. */
export default fp<{ config: Config }>(async function outcomeEvents (fastify, { config }) {
  await fastify.register(eventsRoute, { config })
}, { name: 'outcome-events', dependencies: ['admission', 'outcomes', 'stream-slots'] })
