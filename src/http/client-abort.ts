import type { FastifyReply } from 'fastify'
import { ClientClosedRequest } from '../errors/gateway-errors.js'
import { ManualDeparture, type Departure } from '../upstream/departure.js'

/**
 * Fires when the client goes away before its answer is sent, so the call to fal it was
 * waiting for is aborted instead of running on for nobody.
 */
export function abortWhenClientLeaves (reply: FastifyReply): Departure {
  const departure = new ManualDeparture()
  // A client that left earlier (while its request waited on admission or Redis) fired `close`
  // before anyone listened: the departure starts departed, so nothing is sent to fal for it.
  if (reply.raw.destroyed && !reply.raw.writableFinished) departure.depart(new ClientClosedRequest())
  else {
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) departure.depart(new ClientClosedRequest())
    })
  }
  return departure
}
