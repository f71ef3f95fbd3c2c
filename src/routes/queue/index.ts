import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import type { Config } from '../../config.js'
import { findModel, models } from '../../models/index.js'
import { ModelNotFound, RouteNotFound } from '../../errors/gateway-errors.js'
import modelRoutes from './model-routes.js'

/**
 * `/queue/{appId}/...`: fal's queue URLs with the gateway as host, one set of typed routes per
 * model of the registry. Any other app id is refused, after being charged like any request.
 */
const queueRoutes: FastifyPluginAsyncTypebox<{ config: Config }> = async (fastify, { config }) => {
  for (const model of models) {
    await fastify.register(modelRoutes, { model, config })
  }

  fastify.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: '/queue/*',
    schema: { hide: true },
    onRequest: async (request, reply) => { await fastify.admit(request, reply, request.method === 'POST' ? 'submit' : 'status') },
    handler: async (request) => {
      const appId = (request.params as { '*': string })['*'].split('/').slice(0, 2).join('/')
      // A served model under a path or method it does not have is a wrong route, not a wrong model.
      if (findModel(appId) !== undefined) throw new RouteNotFound(request.method, request.url.split('?')[0]?.slice(0, 200))
      throw new ModelNotFound(appId.slice(0, 100))
    }
  })
}

export default queueRoutes
