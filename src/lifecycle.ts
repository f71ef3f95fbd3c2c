import closeWithGrace from 'close-with-grace'
import type { Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { startMetricsServer } from './metrics/metrics-server.js'

/** Reads the config or exits with the one line that names the bad variable. */
export function configOrExit (environment: Record<string, string | undefined>): Config {
  try {
    return loadConfig(environment)
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error
    process.stderr.write(`fal-gateway: ${error.message}\n`)
    process.exit(1)
  }
}

/**
 * Builds, listens and shuts down gracefully on SIGTERM/SIGINT: readiness turns false, new requests
 * get 503 SHUTTING_DOWN, in-flight requests finish and status streams end within
 * SHUTDOWN_GRACE_MS (plugins/app/draining.ts), then the app closes (Redis, the upstream pool) and
 * the process exits 0. Past the grace period, or on a second signal, it exits 1 at once.
 */
export async function runGateway (config: Config, onClose?: () => Promise<void>): Promise<FastifyInstance> {
  const app = await buildApp(config)
  let metricsServer: Server | undefined

  closeWithGrace({ delay: config.shutdownGraceMs, logger: { error: (message: unknown) => { app.log.error(message) } } }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'shutting down')
    app.drain()
    await app.close()
    metricsServer?.close()
    await onClose?.()
    app.log.info('shut down')
  })

  await app.listen({ port: config.port, host: config.host })
  if (config.metrics.port !== undefined) {
    metricsServer = await startMetricsServer(app.metrics.registry, config.metrics.port, config.host)
    app.log.info({ port: config.metrics.port }, 'metrics served on their own port')
  }
  return app
}
