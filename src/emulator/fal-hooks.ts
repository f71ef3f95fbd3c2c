import type { FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify'
import { keyChecker } from './auth.js'
import type { CallLog, EmulatorCall, Operation } from './calls.js'
import { applyFault, type Faults } from './faults.js'

export interface FalHooksContext {
  calls: CallLog
  faults: Faults
  falKey: string
  /** Aborts when the emulator closes. */
  closing: AbortSignal
}

interface Params {
  owner?: string
  alias?: string
  requestId?: string
  '*'?: string
}

/**
 * Route hooks every fal route shares, in the order fal's edge would apply them: record the call,
 * play the active fault, then check the key (when the route needs one).
 */
export function falHooks (context: FalHooksContext, operation: Operation, needsKey: boolean): Pick<RouteShorthandOptions, 'onRequest' | 'preHandler'> {
  const checkKey = keyChecker(context.falKey)
  const recorded = new WeakMap<FastifyRequest, EmulatorCall>()

  async function onRequest (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const params = request.params as Params
    const subPath = params['*'] !== undefined && params['*'] !== '' ? `/${params['*']}` : ''
    const call: EmulatorCall = {
      operation,
      method: request.method,
      url: request.url,
      appId: params.owner !== undefined && params.alias !== undefined ? `${params.owner}/${params.alias}${subPath}` : undefined,
      requestId: params.requestId,
      headers: { ...request.headers },
      body: undefined,
      at: Date.now()
    }
    context.calls.record(call)
    recorded.set(request, call)

    const fault = context.faults.take(operation)
    if (fault !== undefined && await applyFault(fault, request, reply, context.closing, context.faults.released)) return reply

    if (needsKey) {
      const problem = checkKey(request.headers.authorization)
      if (problem !== undefined) return reply.code(401).send({ detail: problem })
    }
    return undefined
  }

  // Bodies are parsed after onRequest, so they join the record here.
  async function preHandler (request: FastifyRequest): Promise<void> {
    const call = recorded.get(request)
    if (call === undefined) return
    call.body = Buffer.isBuffer(request.body) ? { byteLength: request.body.length } : request.body
  }

  return { onRequest, preHandler }
}
