import type { FastifyReply } from 'fastify'
import { ClientClosedRequest } from '../errors/gateway-errors.js'

/**
 * A signal that fires when the client goes away before its answer is sent, so the call to fal
 * it was waiting for is aborted instead of running on for nobody.
 */
export function abortWhenClientLeaves (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new ClientClosedRequest())
  })
  return controller.signal
}
