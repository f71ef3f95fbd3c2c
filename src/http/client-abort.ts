import type { FastifyReply } from 'fastify'
import { ClientClosedRequest } from '../errors/gateway-errors.js'
import { ManualDeparture, type Departure } from '../upstream/departure.js'

/**
 * Fires when the client goes away before its answer is sent, so the call to fal it was
 * waiting for is aborted instead of running on for nobody.
 */
export function abortWhenClientLeaves (reply: FastifyReply): Departure {
  const departure = new ManualDeparture()
  // Its `close` fired before anyone listened: the departure starts departed, so nothing is sent to fal for it.
  if (clientHasLeft(reply)) departure.depart(new ClientClosedRequest())
  else {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) departure.depart(new ClientClosedRequest())
    })
  }
  return departure
}

/**
 * The client went away before its answer, perhaps while its request waited on admission or
 * Redis: its `close` has fired already, so a listener added now would never be called.
 */
export function clientHasLeft (reply: FastifyReply): boolean {
  return reply.raw.destroyed && !reply.raw.writableFinished
}
