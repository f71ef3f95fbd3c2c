import fp from 'fastify-plugin'
import type { Config } from '../../config.js'
import type { Catalog } from '../../catalog/catalog.js'
import { loadCatalog } from '../../catalog/load-catalog.js'

declare module 'fastify' {
  interface FastifyInstance {
    /** The served endpoints (MODELS_DIR), the allowlist of every route. */
    catalog: Catalog
  }
}

/** Loads the catalog once at start-up; a file it cannot serve stops the start with one line. */
export default fp<{ config: Config }>(async function catalog (fastify, { config }) {
  fastify.decorate('catalog', loadCatalog(config.modelsDir))
}, { name: 'catalog' })
