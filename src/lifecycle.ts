import closeWithGrace from 'close-with-grace'
import type { Server } from 'node:http'
import type { FastifyInstance } from 'fastify'
import { buildApp, type BuildOptions } from './app.js'
import { ConfigError, loadConfig, type Config } from './config.js'
import { withEnvFile, type EnvWithFile } from './env-file.js'
import { listenProblem } from './listen-problem.js'
import { startMetricsServer } from './metrics/metrics-server.js'

/**
 * Ends start-up on a configuration mistake (a bad setting, policy file or .env, a port in use)
 * with one line naming what to change, and exit code 1: an operator never sees a stack trace for
 * those. Anything else is a bug, and is thrown on with its stack.
 */
export function exitOnConfigError (error: unknown): never {
  if (!(error instanceof ConfigError)) throw error
  // Text quoted from a file (a JSON parser's excerpt, a key) may hold line breaks: keep one line.
  process.stderr.write(`fal-gateway: ${error.message.replace(/\r\n|\r|\n/g, '\\n')}\n`)
  process.exit(1)
}

/** Reads the config or exits with the one line that names the bad variable. */
export function configOrExit (environment: Record<string, string | undefined>): Config {
  try {
    return loadConfig(environment)
  } catch (error) {
    exitOnConfigError(error)
  }
}

/** The environment with `.env` beneath it, or exits with the line saying why the file cannot be read. */
export function environmentOrExit (environment: Record<string, string | undefined>): EnvWithFile {
  try {
    return withEnvFile(environment)
  } catch (error) {
    exitOnConfigError(error)
  }
}

/** Listens, or turns a port in use into the ConfigError that names `setting`. */
export async function listenOn<T> (listen: () => Promise<T>, setting: string, port: number, host: string): Promise<T> {
  try {
    return await listen()
  } catch (error) {
    const problem = listenProblem(error, setting, port, host)
    throw problem === undefined ? error : new ConfigError(problem)
  }
}

export interface RunOptions extends BuildOptions {
  /** Called last on shutdown (dev closes its emulator there). */
  onClose?: () => Promise<void>
}

/**
 * Builds, listens and shuts down gracefully on SIGTERM/SIGINT: readiness turns false, new requests
 * get 503 SHUTTING_DOWN, in-flight requests finish and status streams end within
 * SHUTDOWN_GRACE_MS (plugins/app/draining.ts), then the app closes (Redis, the upstream pool) and
 * the process exits 0. Past the grace period, or on a second signal, it exits 1 at once.
 * A configuration mistake found on the way (policy file, port in use) exits 1 with one line.
 */
export async function runGateway (config: Config, { onClose, ...buildOptions }: RunOptions = {}): Promise<FastifyInstance> {
  const app = await buildApp(config, buildOptions).catch(exitOnConfigError)
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

  try {
    await listenOn(() => app.listen({ port: config.port, host: config.host }), 'PORT', config.port, config.host)
    const metricsPort = config.metrics.port
    if (metricsPort !== undefined) {
      metricsServer = await listenOn(() => startMetricsServer(app.metrics.registry, metricsPort, config.host), 'METRICS_PORT', metricsPort, config.host)
      app.log.info({ port: metricsPort }, 'metrics served on their own port')
    }
  } catch (error) {
    exitOnConfigError(error)
  }
  return app
}
