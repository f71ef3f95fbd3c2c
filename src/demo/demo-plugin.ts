import fp from 'fastify-plugin'
import type { FastifyReply } from 'fastify'
import { loadDemoBundle } from './demo-bundle.js'

/**
 * What the page may do: its own script and styles only, images from anywhere (results and
 * uploads live on fal's CDN), fetches to the gateway and to the storage host the upload PUT goes to.
 */
export const DEMO_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob: http: https:",
  "connect-src 'self' http: https:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

function secure (reply: FastifyReply, contentType: string): FastifyReply {
  return reply
    .type(contentType)
    .header('content-security-policy', DEMO_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
}

/**
 * The browser demo at `/demo`: a page on the official `@fal-ai/client` whose only way to fal is
 * the gateway's `/api/fal/proxy`. Loaded at registration (the prebuilt bundle, or bundled from the
 * sources in development: demo-bundle.ts), so a broken or missing page fails start-up instead of
 * the first visit. `bundleDir` serves a prebuilt bundle from elsewhere.
 */
export default fp<{ bundleDir?: string }>(async function demo (fastify, { bundleDir }) {
  const bundle = await loadDemoBundle(bundleDir)
  const routeOptions = { schema: { hide: true }, logLevel: 'warn' as const }

  fastify.get('/demo', routeOptions, async (_request, reply) => secure(reply, 'text/html; charset=utf-8').send(bundle.html))
  fastify.get('/demo/app.js', routeOptions, async (_request, reply) => secure(reply, 'text/javascript; charset=utf-8').send(bundle.js))
  fastify.get('/demo/app.css', routeOptions, async (_request, reply) => secure(reply, 'text/css; charset=utf-8').send(bundle.css))
}, { name: 'demo' })
