import { createEmulator } from './emulator/emulator.js'
import { loadCatalogSettings } from './config.js'
import { configOrExit, environmentOrExit, exitOnConfigError, runGateway } from './lifecycle.js'
import { readableLoggerOptions } from './logger.js'
import { devBanner } from './dev/banner.js'
import { DEV_FAL_KEY, devEnvironment } from './dev/dev-environment.js'
import { listenEmulator } from './dev/emulator-listen.js'

/**
 * `npm run dev`: the gateway in front of the bundled fal emulator, in one process, so the whole
 * flow runs with no fal account; settings from the environment and `.env` still apply. Prints a
 * banner with the URLs and the settings in force once it listens.
 */
const { environment, file } = environmentOrExit(process.env)
// The emulator plays the catalog's models too, so a model added with `npm run models` runs end to end.
let emulator: ReturnType<typeof createEmulator>
try {
  emulator = createEmulator({ falKey: DEV_FAL_KEY, logger: false, modelsDir: loadCatalogSettings(environment).modelsDir })
} catch (error) {
  exitOnConfigError(error)
}
const emulatorListening = await listenEmulator(emulator, environment, '127.0.0.1').catch(exitOnConfigError)

const config = configOrExit(devEnvironment(environment, emulatorListening.url))
await runGateway(config, { onClose: () => emulator.close(), logger: readableLoggerOptions(config) })
process.stdout.write(devBanner(config, { emulatorUrl: emulatorListening.url, emulatorPortTaken: emulatorListening.defaultPortTaken, envFile: file }))
