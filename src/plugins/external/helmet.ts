import fp from 'fastify-plugin'
import helmet from '@fastify/helmet'

/**
 * What a JSON API needs of helmet's headers, computed once: it loads nothing (no scripts, frames
 * or forms), is never sniffed as another type, sends no referrer, and may be read cross-origin
 * (browser apps call it through CORS). Running helmet itself on every poll cost ~5 % of a poll's
 * CPU and eleven headers (BENCHMARKS.md); the HTML pages below still get all of helmet.
 */
const API_SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'cross-origin',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=31536000; includeSubDomains'
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

const isPage = (url: string, prefix: string) => url === prefix || url.startsWith(`${prefix}/`)

/**
 * Security headers: the fixed API set on every answer, and `@fastify/helmet` on the HTML pages,
 * /docs with its own CSP and /demo keeping the CSP its handler sets. Register before the routes:
 * the page policies are attached as routes are added.
 */
export default fp(async function securityHeaders (fastify) {
  fastify.addHook('onRoute', (route) => {
    if (isPage(route.url, '/docs')) route.helmet = { contentSecurityPolicy: { useDefaults: false, directives: DOCS_CSP } }
    if (isPage(route.url, '/demo')) route.helmet = { contentSecurityPolicy: false }
  })
  fastify.addHook('onRequest', async (request, reply) => {
    // Pages carry helmet's own headers; these would override them (Fastify's win over raw ones).
    if ((request.routeOptions.config as { helmet?: unknown }).helmet === undefined) reply.headers(API_SECURITY_HEADERS)
  })
  await fastify.register(helmet, {
    global: false,
    crossOriginResourcePolicy: { policy: 'cross-origin' },
    referrerPolicy: { policy: 'no-referrer' }
  })
}, { name: 'security-headers' })
