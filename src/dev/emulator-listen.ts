import { ConfigError } from '../config.js'
import type { Emulator } from '../emulator/emulator.js'
import { listenOn } from '../lifecycle.js'

/** Where the dev emulator listens unless EMULATOR_PORT says otherwise (or the port is taken). */
export const DEFAULT_EMULATOR_PORT = 4000

export interface EmulatorListening {
  url: string
  /** The default port, when it was taken and the emulator moved to a free one. */
  defaultPortTaken?: number
}

/**
 * Listens on EMULATOR_PORT when it is set (a port in use is then a mistake to report), else on
 * the default port, or on any free port when something else (a second `npm run dev`) holds it:
 * only the gateway talks to this emulator, so where it listens matters to nobody else.
 */
export async function listenEmulator (emulator: Emulator, environment: Record<string, string | undefined>, host: string): Promise<EmulatorListening> {
  const requestedPort = emulatorPortSetting(environment)
  if (requestedPort !== undefined) {
    return { url: await listenOn(() => emulator.listen(requestedPort, host), 'EMULATOR_PORT', requestedPort, host) }
  }
  try {
    return { url: await emulator.listen(DEFAULT_EMULATOR_PORT, host) }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    return { url: await emulator.listen(0, host), defaultPortTaken: DEFAULT_EMULATOR_PORT }
  }
}

/** EMULATOR_PORT when set (0 picks a free port); `undefined` means the default, moved if taken. */
function emulatorPortSetting (environment: Record<string, string | undefined>): number | undefined {
  const raw = environment.EMULATOR_PORT
  if (raw === undefined || raw === '') return undefined
  const port = Number(raw)
  if (!/^\d+$/.test(raw) || port > 65535) throw new ConfigError(`Invalid EMULATOR_PORT: expected an integer from 0 to 65535, got "${raw}"`)
  return port
}
