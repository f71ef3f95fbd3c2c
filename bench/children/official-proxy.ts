import type { AddressInfo } from 'node:net'
import express from 'express'
import { DEFAULT_ALLOWED_URL_PATTERNS } from '@fal-ai/server-proxy'
import { createHandler, route } from '@fal-ai/server-proxy/express'

/**
 * fal's official proxy, `@fal-ai/server-proxy` with its Express adapter, set up as its README says
 * (`express.json()`, `app.all(route, handler)`), admitting the served models and the emulator's
 * host: added to its default allowlist (BENCH_OFFICIAL_ALLOWLIST=default, what an app that follows
 * the README and adds a host has), or alone (=emulator). Its cost per request depends on which.
 * It reads FAL_KEY from the environment itself, at import time.
 */
const emulatorHost = process.env.BENCH_EMULATOR_HOST
if (emulatorHost === undefined || emulatorHost === '') throw new Error('BENCH_EMULATOR_HOST is required')
const emulatorPattern = `${emulatorHost}/**`
const allowedUrlPatterns = process.env.BENCH_OFFICIAL_ALLOWLIST === 'emulator' ? [emulatorPattern] : [...DEFAULT_ALLOWED_URL_PATTERNS, emulatorPattern]

const app = express()
app.use(express.json())
app.all(route, createHandler({
  allowedUrlPatterns,
  allowedEndpoints: ['fal-ai/layer-diffusion', 'fal-ai/illusion-diffusion']
}))

const server = app.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
})

const stop = () => {
  server.close(() => process.exit(0))
  server.closeAllConnections()
}
process.once('SIGTERM', stop)
process.once('disconnect', stop)
