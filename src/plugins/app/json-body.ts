import fp from 'fastify-plugin'

/**
 * JSON bodies as Fastify parses them, except that an empty body is no body: `@fal-ai/client`
 * sends its cancel PUT with `content-type: application/json` and nothing after it.
 */
export default fp(async function jsonBody (fastify) {
  const parseJson = fastify.getDefaultJsonParser('error', 'error')
  fastify.removeContentTypeParser('application/json')
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') {
      done(null, undefined)
      return
    }
    parseJson(request, body as string, done)
  })
}, { name: 'json-body' })
