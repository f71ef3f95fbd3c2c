import fc from 'fast-check'
import t from 'tap'
import { keyLeaks, startGateway } from '../helpers/gateway.js'
import { FUZZ_ENV, fuzzProperties } from './properties.js'

// Bounded for the test suite (npm run fuzz runs the same properties longer); fixed seed, so a
// failure here is reproducible.
const RUNS = Number(process.env.FUZZ_RUNS ?? 200)

t.test('fuzzing every route: never a 5xx, never a crash, never fal for invalid input, never the key', async t => {
  const gateway = await startGateway(t, { env: FUZZ_ENV, emulator: { queueMs: 10_000 } })
  const target = { url: gateway.url, emulator: gateway.emulator, seen: [] as string[] }
  for (const { name, property } of fuzzProperties(target)) {
    await t.resolves(fc.assert(property, { numRuns: RUNS, seed: 42, endOnFailure: true }), name)
  }
  t.same(keyLeaks(target.seen), [], 'the fal key is in no response')
})
