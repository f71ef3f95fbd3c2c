import fp from 'fastify-plugin'

/**
 * JSON bodies, and only JSON bodies, as Fastify parses them, except that an empty body is no
 * body: `@fal-ai/client` sends its cancel PUT with `content-type: application/json` and nothing.
 */
export default fp(async function jsonBody (fastify) {
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeContentTypeParser('application/json')
  // A text/plain body answers 415 instead of reaching the schema as a string.
  fastify.removeContentTypeParser('text/plain')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined)
      return
    }
    parseJson(request, body as string, done)
  })
}, { name: 'json-body' })
