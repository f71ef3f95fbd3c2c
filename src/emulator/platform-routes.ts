import type { FastifyInstance, FastifyRequest } from 'fastify'
import { keyChecker } from './auth.js'
import type { EmulatedModel } from './models.js'

interface PlatformQuery { endpoint_id?: string | string[], expand?: string | string[] }

const MAX_IDS = 50

/** `endpoint_id` repeated or comma-separated, as fal's platform API takes it. */
function endpointIdsOf (query: PlatformQuery): string[] {
  const raw = query.endpoint_id === undefined ? [] : Array.isArray(query.endpoint_id) ? query.endpoint_id : [query.endpoint_id]
  return [...new Set(raw.flatMap(value => value.split(',')).map(id => id.trim()).filter(id => id.length > 0))]
}

/**
 * fal's platform API for the endpoints the emulator plays: `GET /v1/models` (with
 * `expand=openapi-3.0`, each endpoint's document) and `GET /v1/models/pricing`, in the shapes of
 * shared/fal-openapi/platform-api-shapes.md, so `npm run models` runs offline.
 */
export function platformRoutes (app: FastifyInstance, { models, falKey }: { models: ReadonlyMap<string, EmulatedModel>, falKey: string }): void {
  const checkKey = keyChecker(falKey)

  function idsOrRefusal (request: FastifyRequest<{ Querystring: PlatformQuery }>): string[] | { detail: string } {
    const ids = endpointIdsOf(request.query)
    if (ids.length === 0) return { detail: 'endpoint_id is required' }
    if (ids.length > MAX_IDS) return { detail: `at most ${MAX_IDS} endpoint ids per call` }
    return ids
  }

  // Listing works without a key (fal: higher rate limits with one); a wrong key is still refused.
  app.get<{ Querystring: PlatformQuery }>('/v1/models', async (request, reply) => {
    if (request.headers.authorization !== undefined) {
      const problem = checkKey(request.headers.authorization)
      if (problem !== undefined) return reply.code(401).send({ detail: problem })
    }
    const ids = idsOrRefusal(request)
    if (!Array.isArray(ids)) return reply.code(400).send(ids)
    const expand = [request.query.expand ?? []].flat()
    const entries = ids.flatMap(id => {
      const model = models.get(id)
      if (model === undefined) return []
      return [{
        endpoint_id: model.id,
        metadata: { display_name: model.title, category: model.category, status: 'active', model_url: `https://fal.run/${model.id}` },
        ...(expand.includes('openapi-3.0') ? { openapi: model.openapi } : {})
      }]
    })
    return { models: entries, next_cursor: null, has_more: false }
  })

  app.get<{ Querystring: PlatformQuery }>('/v1/models/pricing', async (request, reply) => {
    const problem = checkKey(request.headers.authorization)
    if (problem !== undefined) return reply.code(401).send({ detail: problem })
    const ids = idsOrRefusal(request)
    if (!Array.isArray(ids)) return reply.code(400).send(ids)
    const prices = ids.flatMap(id => {
      const price = models.get(id)?.price
      return price === undefined ? [] : [{ endpoint_id: id, ...price }]
    })
    return { prices, next_cursor: null, has_more: false }
  })
}
