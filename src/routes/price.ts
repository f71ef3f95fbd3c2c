import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { ModelNotAllowed, ValidationFailed } from '../errors/gateway-errors.js'
import { toFieldErrors } from '../errors/validation-detail.js'
import { errorResponses } from '../schemas/errors.js'
import { priceSubmit } from '../spend/submit-price.js'

export const PriceSchema = Type.Object({
  endpoint_id: Type.String(),
  currency: Type.Literal('USD'),
  price_micro_usd: Type.Integer({ description: 'What a submit of this input reserves, in micro-USD (1 USD = 1,000,000)' }),
  unit: Type.String({ description: 'fal\'s billing unit, normalised: image, megapixel, second, video, compute_second…' }),
  quantity: Type.Number({ description: 'Units priced: images, megapixels over all images, seconds × outputs…' }),
  estimated: Type.Boolean({ description: 'True when part of the quantity is an estimate (compute seconds), settled later on what the job used' })
}, { title: 'Price' })

/**
 * `POST /v1/price?endpoint_id=…`: what a submit of this input would reserve, priced exactly as the
 * submit is (same schema, defaults, rules), without submitting anything. For a page that shows the
 * price before the user presses the button.
 */
const priceRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  fastify.post('/v1/price', {
    schema: {
      tags: ['usage'],
      summary: 'The price of a submit, before it is sent',
      querystring: Type.Object({ endpoint_id: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      body: Type.Object({}, { additionalProperties: true }),
      response: { 200: PriceSchema, ...errorResponses(401, 403, 404, 422, 429) }
    },
    // A quote is a read: charged to the poll budget, and only for endpoints the client may use.
    onRequest: async (request, reply) => { await fastify.admit(request, reply, 'status', { appId: (request.query as { endpoint_id?: string }).endpoint_id }) }
  }, async (request) => {
    const endpointId = request.query.endpoint_id
    const endpoint = fastify.catalog.find(endpointId)
    if (endpoint?.price === undefined) throw new ModelNotAllowed(endpointId)
    const validate = request.compileValidationSchema(endpoint.input, 'body')
    if (!validate(request.body)) throw new ValidationFailed(toFieldErrors(validate.errors ?? [], 'body'))
    const price = priceSubmit(endpoint, request.body, fastify.spend.fallbackUnits)
    if (price === undefined) throw new ModelNotAllowed(endpointId)
    return { endpoint_id: endpointId, currency: 'USD' as const, price_micro_usd: price.micros, unit: price.unit, quantity: price.quantity, estimated: price.estimated }
  })
}

export default priceRoutes
