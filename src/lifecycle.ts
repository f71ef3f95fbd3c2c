import closeWithGrace from 'close-with-grace'
import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'

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
 * Builds, listens and shuts down gracefully on SIGTERM/SIGINT: readiness turns false, in-flight
 * requests finish, then the app (and whatever `onClose` adds) closes. A second signal exits at once.
 */
export async function runGateway (config: Config, onClose?: () => Promise<void>): Promise<FastifyInstance> {
  const app = await buildApp(config)

  closeWithGrace({ delay: config.shutdownGraceMs }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'shutting down')
    app.readiness.ready = false
    await app.close()
    await onClose?.()
  })

  await app.listen({ port: config.port, host: config.host })
  return app
}
