import helmet from '@fastify/helmet'
import swaggerUi from '@fastify/swagger-ui'
import type { FastifyPluginAsync } from 'fastify'
import demo from '../../demo/demo-plugin.js'
import type { ModelForm } from '../../demo/page/fields.js'

/** Swagger UI: its own scripts and styles (it sets inline styles), images as data URIs. */
const DOCS_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"]
}

/**
 * The HTML pages, in a scope of their own so that all of `@fastify/helmet` runs for them and
 * for nothing else: the API docs at /docs and, when enabled, the browser demo at /demo (whose
 * handler sets its own, stricter CSP over this one).
 */
const pages: FastifyPluginAsync<{ demoEnabled: boolean, forms: ModelForm[] }> = async (scope, { demoEnabled, forms }) => {
  await scope.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP },
    crossOriginResourcePolicy: { policy: 'same-origin' },
    referrerPolicy: { policy: 'no-referrer' }
  })
  await scope.register(swaggerUi, { routePrefix: '/docs' })
  if (demoEnabled) await scope.register(demo, { forms })
}

export default pages
