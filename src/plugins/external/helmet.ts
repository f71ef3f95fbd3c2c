import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'

/** A JSON API loads nothing: no scripts, no frames, no forms. */
const API_CSP = {
  'default-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"]
}

/** Swagger UI at /docs: its own scripts and styles (it sets inline styles), images as data URIs. */
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
 * Security headers suited to an API (`@fastify/helmet`): a CSP that lets nothing load, except on
 * the /docs pages; /demo sets its own CSP in its handler, which replaces this one. Register before
 * the routes: the /docs policy is attached as routes are added.
 */
export default fp(async function securityHeaders (fastify) {
  fastify.addHook('onRoute', (route) => {
    if (route.url === '/docs' || route.url.startsWith('/docs/')) {
      route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP } }
    }
  })
  await fastify.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: API_CSP },
    // Browser apps on other origins call this API through CORS; they must be able to read it.
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    referrerPolicy: { policy: 'no-referrer' }
  })
}, { name: 'security-headers' })
