import fp from 'fastify-plugin'
import swagger from '@fastify/swagger'

/** OpenAPI document generated from the routes' TypeBox schemas, at /openapi.json (UI: pages.ts). */
export default fp(async function openApi (fastify) {
  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'fal-gateway',
        description: 'Typed queue API for the fal models this gateway serves. Same URLs as https://queue.fal.run, under /queue, without a key.',
        version: '0.1.0'
      },
      tags: [
        { name: 'queue', description: "fal's queue API for the served models" },
        { name: 'operations', description: 'Health and readiness' }
      ]
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, index) => String(json.$id ?? json.title ?? `def-${index}`)
    }
  })
  fastify.get('/openapi.json', { schema: { hide: true } }, async () => fastify.swagger())
}, { name: 'swagger' })
