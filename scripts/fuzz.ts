import fc from 'fast-check'
import type { AddressInfo } from 'node:net'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createEmulator } from '../src/emulator/emulator.js'
import { FAL_KEY, keyLeaks } from '../test/helpers/gateway.js'
import { FUZZ_ENV, fuzzProperties } from '../test/fuzz/properties.js'

/**
 * `npm run fuzz`: the test suite's fuzzing properties, run longer and with a fresh seed each time
 * (FUZZ_RUNS per property, default 5000; FUZZ_SEED to replay a failure).
 */
const runs = Number(process.env.FUZZ_RUNS ?? 5000)
const seed = process.env.FUZZ_SEED === undefined ? Date.now() : Number(process.env.FUZZ_SEED)

const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 10_000 })
const emulatorUrl = await emulator.listen()
const config = loadConfig({ NODE_ENV: 'test', FAL_KEY, FAL_QUEUE_URL: emulatorUrl, FAL_REST_URL: emulatorUrl, HOST: '127.0.0.1', ...FUZZ_ENV })
const app = await buildApp(config, { logger: false })
await app.listen({ port: 0, host: '127.0.0.1' })
const target = { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, emulator, seen: [] as string[] }

process.stdout.write(`fuzzing with seed ${seed}, ${runs} runs per property\n`)
let failed = false
try {
  for (const { name, property } of fuzzProperties(target)) {
    const result = await fc.check(property, { numRuns: runs, seed })
    process.stdout.write(`${result.failed ? 'FAIL' : 'ok  '} ${name}\n`)
    if (result.failed) {
      failed = true
      process.stdout.write(`${fc.defaultReportMessage(result) ?? ''}\n`)
    }
    // Checked per property and dropped, so a long run's memory stays flat.
    if (keyLeaks(target.seen).length > 0) {
      failed = true
      process.stdout.write(`FAIL the fal key appeared in a response (${name})\n`)
    }
    target.seen.length = 0
  }
} finally {
  await app.close()
  await emulator.close()
}
process.exitCode = failed ? 1 : 0
