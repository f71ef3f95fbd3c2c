import { RUN_PREFIX } from '../emulator/run-routes.js'

/** The key the dev emulator expects and the dev gateway sends: made up, never a real fal key. */
export const DEV_FAL_KEY = 'dev-key-id:dev-key-secret'

/**
 * Dev defaults, beneath whatever the environment and `.env` set: loopback only, and limits a
 * developer iterating on a form does not hit (production's defaults allow 10 submits a minute).
 */
export const DEV_DEFAULTS: Readonly<Record<string, string>> = {
  HOST: '127.0.0.1',
  RATE_LIMIT_SUBMIT_MAX: '1000',
  RATE_LIMIT_POLL_MAX: '10000',
  RATE_LIMIT_UPLOAD_MAX: '1000',
  MAX_IN_FLIGHT: '100',
  DAILY_SUBMIT_QUOTA: '100000'
}

/**
 * The settings of `npm run dev`: the dev defaults, then the environment (with `.env`) over them,
 * then what dev mode is: development, the emulator as fal, and the emulator's key (a real
 * FAL_KEY in `.env` is never sent anywhere in dev).
 */
export function devEnvironment (environment: Record<string, string | undefined>, emulatorUrl: string): Record<string, string | undefined> {
  const set = Object.entries(environment).filter(([, value]) => value !== undefined && value !== '')
  return {
    ...DEV_DEFAULTS,
    ...Object.fromEntries(set),
    NODE_ENV: 'development',
    FAL_KEY: DEV_FAL_KEY,
    FAL_KEY_ID: undefined,
    FAL_KEY_SECRET: undefined,
    FAL_QUEUE_URL: emulatorUrl,
    FAL_REST_URL: emulatorUrl,
    FAL_RUN_URL: `${emulatorUrl}${RUN_PREFIX}`
  }
}
