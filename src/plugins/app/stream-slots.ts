import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { TooManyStreams } from '../../errors/gateway-errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    streamSlots: {
      /**
       * Holds one of the client's stream slots until the reply closes; throws TooManyStreams
       * (429) when it holds MAX_STREAMS_PER_CLIENT already. Every long-lived stream route takes one.
       */
      take: (request: FastifyRequest, reply: FastifyReply) => void
      /** Streams open on this node per client, for observation. */
      held: () => Map<string, number>
    }
  }
}

/** A client at its limit may try again this soon: streams end as jobs do. */
const RETRY_AFTER_S = 5

/**
 * Open status streams per client, on this node: one client's hundreds of streams must not hold
 * what every other client needs (sockets, memory, and before the hub, connections to fal).
 */
export default fp<{ config: Config }>(async function streamSlots (fastify, { config }) {
  const max = config.streams.maxPerClient
  const open = new Map<string, number>()

  fastify.decorate('streamSlots', {
    take (request: FastifyRequest, reply: FastifyReply) {
      const clientId = request.client.id
      const held = open.get(clientId) ?? 0
      if (held >= max) throw new TooManyStreams(RETRY_AFTER_S, max)
      open.set(clientId, held + 1)
      reply.raw.once('close', () => {
        const left = (open.get(clientId) ?? 1) - 1
        if (left <= 0) open.delete(clientId)
        else open.set(clientId, left)
      })
    },
    held: () => new Map(open)
  })
}, { name: 'stream-slots', dependencies: ['admission'] })
