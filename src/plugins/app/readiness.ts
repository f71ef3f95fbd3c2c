import fp from 'fastify-plugin'

declare module 'fastify' {
  interface FastifyInstance {
    /** False once shutdown has begun, so load balancers stop sending traffic. */
    readiness: { ready: boolean }
  }
}

export default fp(async function readiness (fastify) {
  fastify.decorate('readiness', { ready: true })
}, { name: 'readiness' })
