import type { FastifyReply } from 'fastify'

/**
 * A signal that fires when the client goes away before its answer is sent, so the call to fal
 * it was waiting for is aborted instead of running on for nobody.
 */
export function abortWhenClientLeaves (reply: FastifyReply): AbortSignal {
  const controller = new AbortController()
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(new Error('client disconnected'))
  })
  return controller.signal
}
