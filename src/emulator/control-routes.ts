import { Type } from '@sinclair/typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { OperationSchema, type CallLog } from './calls.js'
import { FaultSchema, type Faults } from './faults.js'

/**
 * `/_emulator/*`: the fault switch and call log over HTTP, for tests that run the emulator as a
 * subprocess. Not recorded, no key: the emulator is a development tool bound to loopback.
 */
export function controlRoutes (app: FastifyInstance, calls: CallLog, faults: Faults): void {
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
}
