import { configOrExit, runGateway } from './lifecycle.js'

/** The production entry: the only module besides `dev.ts` that reads the environment. */
await runGateway(configOrExit(process.env))
