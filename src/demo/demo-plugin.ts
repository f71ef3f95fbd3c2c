import fp from 'fastify-plugin'
import type { FastifyReply } from 'fastify'
import { BUILT_DEMO_DIR, RUNS_FROM_SOURCES, readBuiltDemo, type DemoBundle } from './demo-bundle.js'
import type { ModelForm } from './page/fields.js'

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

/**
 * The bundle to serve: read from `directory` when given, or when the gateway runs compiled (the
 * production image has no page sources and no esbuild); bundled on the fly from the sources
 * otherwise, so development and tests always serve the page as it is now.
 */
async function loadDemoBundle (directory: string | undefined): Promise<DemoBundle> {
  if (directory !== undefined || !RUNS_FROM_SOURCES) return await readBuiltDemo(directory ?? BUILT_DEMO_DIR)
  const { bundleDemo } = await import('./build-bundle.js')
  return await bundleDemo()
}

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
 * sources in development), so a broken or missing page fails start-up instead of
 * the first visit. `bundleDir` serves a prebuilt bundle from elsewhere. `forms`: one per catalog
 * endpoint, served as /demo/models.json.
 */
export default fp<{ bundleDir?: string, forms?: ModelForm[] }>(async function demo (fastify, { bundleDir, forms = [] }) {
  const bundle = await loadDemoBundle(bundleDir)
  const routeOptions = { schema: { hide: true }, logLevel: 'warn' as const }

  fastify.get('/demo', routeOptions, async (_request, reply) => secure(reply, 'text/html; charset=utf-8').send(bundle.html))
  fastify.get('/demo/app.js', routeOptions, async (_request, reply) => secure(reply, 'text/javascript; charset=utf-8').send(bundle.js))
  fastify.get('/demo/app.css', routeOptions, async (_request, reply) => secure(reply, 'text/css; charset=utf-8').send(bundle.css))
  const formsJson = JSON.stringify(forms)
  fastify.get('/demo/models.json', routeOptions, async (_request, reply) => secure(reply, 'application/json; charset=utf-8').send(formsJson))
}, { name: 'demo' })
