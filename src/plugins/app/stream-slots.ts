import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { ClientClosedRequest, Overloaded, TooManyStreams } from '../../errors/gateway-errors.js'
import { clientHasLeft } from '../../http/client-abort.js'

declare module 'fastify' {
  interface FastifyInstance {
    streamSlots: {
      /**
       * Holds one of the client's stream slots until the reply closes; throws TooManyStreams
       * (429) when it holds MAX_STREAMS_PER_CLIENT already, and Overloaded (503) when the node
       * holds MAX_STREAMS_PER_NODE; ClientClosedRequest when the client has already gone. Every
       * long-lived stream route takes one.
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
 * what every other client needs (sockets, memory, and before the hub, connections to fal). And
 * all clients' together: many clients each within their share must not take the node's memory
 * and sockets either; past the node's cap a stream is refused like any load the node cannot take,
 * so the client tries again, perhaps on another replica.
 */
export default fp<{ config: Config }>(async function streamSlots (fastify, { config }) {
  const { maxPerClient, maxPerNode } = config.streams
  const open = new Map<string, number>()
  let openOnNode = 0

  fastify.decorate('streamSlots', {
    take (request: FastifyRequest, reply: FastifyReply) {
      // Its slot would be given back on a `close` that has already happened: never, so none is taken.
      if (clientHasLeft(reply)) throw new ClientClosedRequest()
      const clientId = request.client.id
      const held = open.get(clientId) ?? 0
      if (held >= maxPerClient) throw new TooManyStreams(RETRY_AFTER_S, maxPerClient)
      if (openOnNode >= maxPerNode) throw new Overloaded(RETRY_AFTER_S)
      open.set(clientId, held + 1)
      openOnNode++
      reply.raw.once('close', () => {
        openOnNode--
        const left = (open.get(clientId) ?? 1) - 1
        if (left <= 0) open.delete(clientId)
        else open.set(clientId, left)
      })
    },
    held: () => new Map(open)
  })
}, { name: 'stream-slots', dependencies: ['admission'] })
