import { listenProblem } from '../listen-problem.js'
import { createEmulator } from './emulator.js'

/**
 * `npm run emulator`: the fal emulator as a process. The only emulator file that reads the
 * environment: EMULATOR_PORT (4000), EMULATOR_HOST (127.0.0.1), FAL_KEY or FAL_KEY_ID +
 * FAL_KEY_SECRET, EMULATOR_QUEUE_MS, EMULATOR_PROCESSING_MS, EMULATOR_PUBLIC_URL,
 * EMULATOR_WEBHOOK_RETRY_MS (waits before each webhook retry, comma-separated; default fal's),
 * MODELS_DIR (a gateway catalog whose endpoints it plays too, besides its own library).
 */
function fail (message: string): never {
  console.error(`fal emulator: ${message}`)
  process.exit(1)
}

function readInteger (name: string, fallback?: number): number | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isSafeInteger(value) || value < 0) fail(`${name} must be a non-negative integer, got "${raw}"`)
  return value
}

function readKey (): string {
  const key = process.env.FAL_KEY
  if (key !== undefined && key !== '') return key
  const id = process.env.FAL_KEY_ID
  const secret = process.env.FAL_KEY_SECRET
  if (id !== undefined && id !== '' && secret !== undefined && secret !== '') return `${id}:${secret}`
  return fail('set FAL_KEY (or FAL_KEY_ID and FAL_KEY_SECRET): the key clients must present')
}

function readDelays (name: string): number[] | undefined {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return undefined
  const delays = raw.split(',').map(Number)
  if (!delays.every(delay => Number.isSafeInteger(delay) && delay >= 0)) fail(`${name} must be comma-separated non-negative integers, got "${raw}"`)
  return delays
}

const port = readInteger('EMULATOR_PORT', 4000) ?? 4000
if (port > 65535) fail(`EMULATOR_PORT must be at most 65535, got ${port}`)
const host = process.env.EMULATOR_HOST ?? '127.0.0.1'

const emulator = createEmulator({
  falKey: readKey(),
  queueMs: readInteger('EMULATOR_QUEUE_MS'),
  processingMs: readInteger('EMULATOR_PROCESSING_MS'),
  publicUrl: process.env.EMULATOR_PUBLIC_URL || undefined,
  webhookRetryDelaysMs: readDelays('EMULATOR_WEBHOOK_RETRY_MS'),
  modelsDir: process.env.MODELS_DIR || undefined,
  logger: true
})

const baseUrl = await emulator.listen(port, host).catch((error: unknown) => {
  const problem = listenProblem(error, 'EMULATOR_PORT', port, host)
  if (problem === undefined) throw error
  return fail(problem)
})
emulator.app.log.info(`fal emulator listening on ${baseUrl} (queue and storage hosts on one port; the run host, for FAL_RUN_URL, at ${baseUrl}/run)`)

let closing = false
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return
    closing = true
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('fal emulator: close failed', error)
        process.exit(1)
      }
    )
  })
}
