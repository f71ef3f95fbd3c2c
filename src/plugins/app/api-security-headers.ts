import fp from 'fastify-plugin'
import type { onRequestHookHandler } from 'fastify'

/**
 * The security headers a JSON API needs, computed once: it loads nothing (no scripts, frames or
 * forms), is never sniffed as another type, sends no referrer, and may be read cross-origin
 * (browser apps call it through CORS). Running helmet on every poll cost a tenth of a poll's CPU
 * (BENCHMARKS.md); the HTML pages get all of helmet in their own scope (plugins/external/pages.ts).
 */
export const API_SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'cross-origin',
  'x-frame-options': 'DENY',
  'strict-transport-security': 'max-age=31536000; includeSubDomains'
}

const PAGE_PREFIXES = ['/docs', '/demo']

const isPage = (url: string) => PAGE_PREFIXES.some(prefix => url === prefix || url.startsWith(`${prefix}/`))

// A callback hook: no promise per request.
const addSecurityHeaders: onRequestHookHandler = (_request, reply, done) => { reply.headers(API_SECURITY_HEADERS); done() }

/** Attached route by route as routes are added (register it first), so pages cost nothing. */
export default fp(async function apiSecurityHeaders (fastify) {
  fastify.addHook('onRoute', (route) => {
    if (isPage(route.url)) return
    const own = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest]
    route.onRequest = [addSecurityHeaders, ...own]
  })
}, { name: 'api-security-headers' })
