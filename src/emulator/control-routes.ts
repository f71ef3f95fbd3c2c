import { Type } from '@sinclair/typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { OperationSchema, type CallLog } from './calls.js'
import { FaultSchema, type Faults } from './faults.js'
import { HoldSchema, ReleaseSchema, type JobStore } from './jobs.js'

export interface ControlContext {
  calls: CallLog
  faults: Faults
  jobs: JobStore
}

/**
 * `/_emulator/*`: the fault switch, the call log and job holds over HTTP, for tests that run the
 * emulator as a subprocess. Not recorded, no key: the emulator is a development tool bound to loopback.
 */
export function controlRoutes (app: FastifyInstance, { calls, faults, jobs }: ControlContext): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()

  typed.post('/_emulator/faults', { schema: { body: FaultSchema } }, async (request, reply) => {
    faults.set(request.body)
    return reply.code(204).send()
  })

  typed.delete('/_emulator/faults', async (_request, reply) => {
    faults.clear()
    return reply.code(204).send()
  })

  typed.get('/_emulator/calls', { schema: { querystring: Type.Object({ operation: Type.Optional(OperationSchema) }) } }, async request => {
    const { operation } = request.query
    return operation === undefined ? calls.all : calls.of(operation)
  })

  typed.delete('/_emulator/calls', async (_request, reply) => {
    calls.reset()
    return reply.code(204).send()
  })

  typed.post('/_emulator/holds', { schema: { body: HoldSchema } }, async (request, reply) => {
    switch (jobs.hold(request.body)) {
      case 'held': return reply.code(204).send()
      case 'not-found': return reply.code(404).send({ detail: 'Request not found' })
      case 'left-phase': return reply.code(409).send({ detail: `The request has already left ${request.body.phase}` })
    }
  })

  typed.delete('/_emulator/holds', { schema: { querystring: ReleaseSchema } }, async (request, reply) => {
    jobs.release(request.query)
    return reply.code(204).send()
  })

  typed.get('/_emulator/holds', async () => jobs.holds)
}
