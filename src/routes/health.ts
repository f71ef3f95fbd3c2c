import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'

const ProbeSchema = Type.Object({ status: Type.String() })

/**
 * Liveness (the process answers) and readiness (it should get traffic): not while draining, nor
 * while overloaded, which always begins before load shedding does (plugins/app/load-shedding.ts).
 */
const healthRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const schema = { tags: ['operations'], response: { 200: ProbeSchema, 503: ProbeSchema } }

  fastify.get('/healthz', { schema, logLevel: 'warn' }, async () => ({ status: 'ok' }))

  fastify.get('/readyz', { schema, logLevel: 'warn' }, async (_request, reply) => {
    if (!fastify.readiness.ready) return reply.code(503).send({ status: 'shutting down' })
    if (fastify.pressure.overloaded) return reply.code(503).send({ status: 'overloaded' })
    return { status: 'ready' }
  })
}

export default healthRoutes
