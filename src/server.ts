import { configOrExit, environmentOrExit, runGateway } from './lifecycle.js'

/** The production entry: the only module besides `dev.ts` that reads the environment (and `.env`). */
const { environment, file } = environmentOrExit(process.env)
const app = await runGateway(configOrExit(environment))
// Names only: a .env may hold FAL_KEY.
if (file !== undefined) app.log.info({ envFile: file.path, settings: file.names }, 'settings read from .env (the environment wins over it)')
