import fp from 'fastify-plugin'
import type { Readable } from 'node:stream'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { abortWhenClientLeaves } from '../../http/client-abort.js'
import { createStatusStreamHub, type StatusStreamHub } from '../../streams/status-stream-hub.js'
import { departureWithin } from '../../upstream/departure.js'
import type { StreamTarget } from '../../upstream/fal-target.js'
import { completedStatus } from '../../webhooks/outcome-polls.js'
import type { JobOutcome } from '../../webhooks/outcome-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    statusStreams: {
      /**
       * A slot, then the job's status events from the node's one shared upstream stream, for at
       * most STREAM_TIMEOUT_MS; with FAL_WEBHOOKS=on they end with the outcome the moment it is
       * recorded on any replica, and a job whose outcome is known is answered without fal.
       */
      open: (request: FastifyRequest, reply: FastifyReply, target: StreamTarget) => Promise<Readable>
      hub: StatusStreamHub
    }
  }
}

/**
 * Status streams can no longer starve anyone: each client holds at most MAX_STREAMS_PER_CLIENT of
 * them on a node (stream-slots.ts), every listener of a job shares one stream from fal (the hub), and those streams
 * use a connection pool of their own (UPSTREAM_STREAM_CONNECTIONS), so polls and submits keep theirs.
 */
export default fp<{ config: Config }>(async function statusStreams (fastify, { config }) {
  const { fal } = fastify.upstream
  const webhooks = config.falWebhooks.enabled
  const lastEvent = (outcome: JobOutcome, target: StreamTarget): string =>
    `data: ${JSON.stringify(completedStatus(outcome, target, config.falQueueUrl, target.logs))}\n\n`

  const hub = createStatusStreamHub({
    open: async (target, signal) => await fal.openStatusStream(target, signal),
    ...(webhooks
      ? {
          outcome: {
            known: async target => {
              const outcome = await fastify.outcomes.get(target.requestId.toLowerCase()).catch(() => undefined)
              if (outcome === undefined) return undefined
              fastify.webhookMetrics.pollsAnsweredLocally.inc({ operation: 'stream' })
              return lastEvent(outcome, target)
            },
            wait: async (target, signal) => lastEvent(await fastify.outcomes.wait(target.requestId.toLowerCase(), signal), target)
          }
        }
      : {})
  })

  fastify.decorate('statusStreams', {
    async open (request: FastifyRequest, reply: FastifyReply, target: StreamTarget) {
      fastify.streamSlots.take(request, reply)
      const lifetime = departureWithin(abortWhenClientLeaves(reply), config.streamTimeoutMs)
      try {
        const events = await hub.listen(target, lifetime)
        events.once('close', lifetime.dispose)
        return events
      } catch (error) {
        lifetime.dispose()
        throw error
      }
    },
    hub
  })
}, { name: 'status-streams', dependencies: ['upstream', 'stream-slots', 'webhooks'] })
