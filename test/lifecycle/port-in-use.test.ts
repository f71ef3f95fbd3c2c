import { once } from 'node:events'
import { createServer, type Server } from 'node:net'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { assertOneLine, runEntryToExit, scratchDir } from './entry-process.js'

/** A loopback port something else holds for the whole test. */
async function takenPort (t: Test): Promise<number> {
  const server: Server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  return (server.address() as { port: number }).port
}

// Each case starts node processes that compile TypeScript: slow on a busy machine.
t.setTimeout(300_000)

t.test('a port in use stops start-up with one line naming the setting that chose it', async t => {
  const dir = await scratchDir(t)
  const port = await takenPort(t)
  const inUse = `port ${port} on 127.0.0.1 is already in use`

  assertOneLine(t, await runEntryToExit(t, 'src/server.ts', dir, { PORT: String(port) }), 'fal-gateway: ', [inUse, 'set PORT'], 'the gateway on PORT')
  assertOneLine(t, await runEntryToExit(t, 'src/server.ts', dir, { METRICS_PORT: String(port) }), 'fal-gateway: ', [inUse, 'set METRICS_PORT'], 'metrics on METRICS_PORT')
  assertOneLine(t, await runEntryToExit(t, 'src/dev.ts', dir, { EMULATOR_PORT: String(port) }), 'fal-gateway: ', [inUse, 'set EMULATOR_PORT'], 'npm run dev with EMULATOR_PORT set')
  assertOneLine(t, await runEntryToExit(t, 'src/dev.ts', dir, { PORT: String(port) }), 'fal-gateway: ', [inUse, 'set PORT'], 'npm run dev on PORT')
  assertOneLine(t, await runEntryToExit(t, 'src/emulator/main.ts', dir, { EMULATOR_PORT: String(port) }), 'fal emulator: ', [inUse, 'set EMULATOR_PORT'], 'npm run emulator')
})

t.test('other start-up mistakes of dev mode and .env are one line too', async t => {
  const dir = await scratchDir(t)
  assertOneLine(t, await runEntryToExit(t, 'src/dev.ts', dir, { EMULATOR_PORT: 'four-thousand' }), 'fal-gateway: ', ['Invalid EMULATOR_PORT', '"four-thousand"'], 'a bad EMULATOR_PORT')
  await mkdir(join(dir, '.env'))
  assertOneLine(t, await runEntryToExit(t, 'src/server.ts', dir, {}), 'fal-gateway: ', [`cannot read ${join(dir, '.env')}`], 'a .env that cannot be read')
})
