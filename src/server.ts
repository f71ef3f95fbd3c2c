import closeWithGrace from 'close-with-grace'
import { buildApp } from './app.js'
import { ConfigError, loadConfig } from './config.js'

/** The process entry: the only module that reads the environment. */
async function main (): Promise<void> {
  let config
  try {
    config = loadConfig(process.env)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`fal-gateway: ${error.message}\n`)
      process.exit(1)
    }
    throw error
  }

  const app = await buildApp(config)

  closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
    if (err !== undefined) app.log.error({ err }, 'closing after an unexpected error')
    else app.log.info({ signal }, 'shutting down')
    app.readiness.ready = false
    await app.close()
  })

  await app.listen({ port: config.port, host: config.host })
}

await main()
