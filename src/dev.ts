import { createEmulator } from './emulator/emulator.js'
import { configOrExit, runGateway } from './lifecycle.js'

/**
 * `npm run dev`: the gateway in front of the bundled fal emulator, in one process, so the whole
 * flow runs with no fal account. Settings from the environment still apply (PORT, limits...).
 */
const DEV_KEY = 'dev-key-id:dev-key-secret'
const emulatorPort = Number(process.env.EMULATOR_PORT ?? 4000)

const emulator = createEmulator({ falKey: DEV_KEY, logger: false })
const emulatorUrl = await emulator.listen(emulatorPort, '127.0.0.1')

const config = configOrExit({
  NODE_ENV: 'development',
  HOST: '127.0.0.1',
  CORS_ORIGINS: 'http://localhost:3000,http://127.0.0.1:3000',
  ...process.env,
  FAL_KEY: DEV_KEY,
  FAL_KEY_ID: undefined,
  FAL_KEY_SECRET: undefined,
  FAL_QUEUE_URL: emulatorUrl,
  FAL_REST_URL: emulatorUrl
})
const app = await runGateway(config, () => emulator.close())
const address = `http://${config.host}:${config.port}`
app.log.info(`fal-gateway (development) on ${address}, fal emulator on ${emulatorUrl}; demo at ${address}/demo, API docs at ${address}/docs`)
