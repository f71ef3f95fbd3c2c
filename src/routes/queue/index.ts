import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from '@sinclair/typebox'
import type { Config } from '../../config.js'
import type { CatalogEndpoint } from '../../catalog/catalog-endpoint.js'
import { ModelNotFound, RouteNotFound } from '../../errors/gateway-errors.js'
import { parseEndpointId } from '../../upstream/endpoint-id.js'
import modelRoutes, { type AppRequests } from './model-routes.js'

/** The app's title and result schema: its endpoint's, or every endpoint's result when it has several. */
function appRequestsOf (appId: string, endpoints: readonly CatalogEndpoint[]): AppRequests {
  const [only] = endpoints
  if (only !== undefined && endpoints.length === 1) return { title: only.title, output: only.output }
  return { title: appId, output: Type.Union(endpoints.map(endpoint => endpoint.output)) }
}

/**
 * `/queue/{endpoint id}` and `/queue/{app id}/requests/...`: fal's queue URLs with the gateway as
 * host, typed routes generated from the catalog. Anything else is refused, after being charged
 * like any request.
 */
const queueRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (fastify, { config }) => {
  const { catalog } = fastify
  const byApp = new Map<string, CatalogEndpoint[]>()
  for (const endpoint of catalog.endpoints) byApp.set(endpoint.appId, [...(byApp.get(endpoint.appId) ?? []), endpoint])
  for (const [appId, endpoints] of byApp) {
    for (const [index, endpoint] of endpoints.entries()) {
      await fastify.register(modelRoutes, { endpoint, config, requests: index === 0 ? appRequestsOf(appId, endpoints) : undefined })
    }
  }

  fastify.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: '/queue/*',
    schema: { hide: true },
    onRequest: async (request, reply) => { await fastify.admit(request, reply, request.method === 'POST' ? 'submit' : 'status') },
    handler: async (request) => {
      const path = (request.params as { '*': string })['*']
      const segments = path.split('/')
      // A served app under a path or method it does not have is a wrong route, not a wrong model.
      if (catalog.servesApp(segments.slice(0, 2).join('/')) && (request.method !== 'POST' || segments.includes('requests'))) {
        throw new RouteNotFound(request.method, request.url.split('?')[0]?.slice(0, 200))
      }
      const named = request.method === 'POST' ? parseEndpointId(path)?.endpointId : undefined
      throw new ModelNotFound((named ?? segments.slice(0, 2).join('/')).slice(0, 100))
    }
  })
}

export default queueRoutes
