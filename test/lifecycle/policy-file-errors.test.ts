import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { assertOneLine, runEntryToExit, scratchDir } from './entry-process.js'

const tier = { submit: { max: 1, windowMs: 60000 }, poll: { max: 1, windowMs: 60000 }, upload: { max: 1, windowMs: 60000 }, maxInFlight: 1, dailySubmitQuota: 1 }

// Each case starts node processes that compile TypeScript: slow on a busy machine.
t.setTimeout(300_000)

t.test('each policy-file mistake stops the gateway with one line naming the file and every place', async t => {
  const dir = await scratchDir(t)
  const write = async (name: string, text: string): Promise<string> => {
    await writeFile(join(dir, name), text)
    return join(dir, name)
  }
  await mkdir(join(dir, 'folder.json'))
  const cases: Array<[string, string, Array<string | RegExp>]> = [
    ['a missing file', join(dir, 'missing.json'), ['missing.json: no such file']],
    ['a directory', join(dir, 'folder.json'), ['folder.json: a directory']],
    ['not JSON', await write('broken.json', '{\n  "anonymous": { "enabled": true, },\n  "tiers": {}\n}\n'), ['broken.json: not JSON', /line 2/]],
    ['three schema problems', await write('invalid.json', JSON.stringify({
      anonymous: { enabled: 'yes', tier: 'free' },
      tiers: { free: { ...tier, maxInFlight: -1 } },
      keys: [{ id: 'web', sha256: 'not-a-hash', tier: 'free' }]
    })), ['invalid.json', '/anonymous/enabled: Expected boolean', '/tiers/free/maxInFlight: Expected integer to be greater or equal to 0', /\/keys\/0\/sha256: Expected string to match/]],
    ['dangling references', await write('references.json', JSON.stringify({
      anonymous: { enabled: true, tier: 'gold' },
      tiers: { free: tier },
      keys: [{ id: 'web', sha256: 'a'.repeat(64), tier: 'silver' }]
    })), ['/anonymous/tier: unknown tier "gold"', '/keys/0/tier: unknown tier "silver"']]
  ]
  for (const [what, path, patterns] of cases) {
    const ended = await runEntryToExit(t, 'src/server.ts', dir, { POLICY_FILE: path })
    assertOneLine(t, ended, `fal-gateway: Invalid POLICY_FILE ${path}: `, patterns, what)
  }
})
