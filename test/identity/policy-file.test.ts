import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError } from '../../src/config.js'
import { PolicyError, isModelAllowed, loadPolicyFile, parsePolicy } from '../../src/identity/policy-file.js'

const example = new URL('../../policy.example.json', import.meta.url).pathname

t.test('the documented example loads', async t => {
  const policy = loadPolicyFile(example)
  t.equal(policy.anonymous.tier, 'anonymous')
  t.equal(policy.keys[0]?.id, 'acme-web')
  t.equal(policy.jwt?.tierClaim, 'tier')
  t.ok(isModelAllowed(policy.tiers['anonymous']!, 'fal-ai/illusion-diffusion'))
  t.notOk(isModelAllowed(policy.tiers['anonymous']!, 'fal-ai/layer-diffusion'))
  t.ok(isModelAllowed(policy.tiers['pro']!, 'fal-ai/layer-diffusion'), 'no list means every model')
})

const tier = { submit: { max: 1, windowMs: 60000 }, poll: { max: 1, windowMs: 60000 }, upload: { max: 1, windowMs: 60000 }, maxInFlight: 1, dailySubmitQuota: 1 }
const valid = { anonymous: { enabled: false, tier: 'free' }, tiers: { free: tier } }

t.test('defaults: no keys, no JWT', async t => {
  t.same(parsePolicy(valid).keys, [])
})

t.test('errors name the bad field', async t => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['wrong type', { ...valid, tiers: { free: { ...tier, maxInFlight: 'two' } } }, /\/tiers\/free\/maxInFlight/],
    ['unknown property', { ...valid, anonymus: {} }, /\/anonymus: Unexpected property/],
    ['bad tier name', { ...valid, tiers: { 'bad name!': tier } }, /\/tiers\/bad name!/],
    ['unknown anonymous tier', { ...valid, anonymous: { enabled: true, tier: 'gold' } }, /\/anonymous\/tier: unknown tier "gold"/],
    ['key with unknown tier', { ...valid, keys: [{ id: 'a', sha256: 'a'.repeat(64), tier: 'gold' }] }, /\/keys\/0\/tier/],
    ['bad hash', { ...valid, keys: [{ id: 'a', sha256: 'xyz', tier: 'free' }] }, /\/keys\/0\/sha256/],
    ['duplicate id', { ...valid, keys: [{ id: 'a', sha256: 'a'.repeat(64), tier: 'free' }, { id: 'a', sha256: 'b'.repeat(64), tier: 'free' }] }, /\/keys\/1\/id: duplicate/],
    ['secret and jwksUrl', { ...valid, jwt: { secret: 's'.repeat(32), jwksUrl: 'https://x/jwks', issuer: 'i', audience: 'a', defaultTier: 'free' } }, /\/jwt: set exactly one/],
    ['short secret', { ...valid, jwt: { secret: 'short', issuer: 'i', audience: 'a', defaultTier: 'free' } }, /\/jwt\/secret/]
  ]
  for (const [name, value, message] of cases) t.throws(() => parsePolicy(value), { message }, name)
})

t.test('every problem is reported at once, each with its place', async t => {
  const broken = {
    anonymus: {},
    tiers: { free: { ...tier, maxInFlight: 'two', submit: { max: 0, windowMs: 60000 } } },
    keys: [{ id: 'a', sha256: 'xyz', tier: 'free' }]
  }
  const error = t.throws(() => parsePolicy(broken, 'POLICY_FILE p.json')) as PolicyError
  t.ok(error instanceof ConfigError, 'a configuration mistake, printed as one line at start-up')
  t.same(new Set(error.problems.map(problem => problem.split(':')[0])), new Set(['/anonymous', '/anonymus', '/tiers/free/submit/max', '/tiers/free/maxInFlight', '/keys/0/sha256']), 'each bad place once')
  t.match(error.message, /^Invalid POLICY_FILE p\.json: /)
  t.match(error.message, /\/anonymous: Expected required property/, 'says what was expected')
  t.notMatch(error.message, /\n/, 'one line')

  const references = t.throws(() => parsePolicy({ ...valid, anonymous: { enabled: true, tier: 'gold' }, keys: [{ id: 'a', sha256: 'a'.repeat(64), tier: 'silver' }] })) as PolicyError
  t.same(references.problems, ['/anonymous/tier: unknown tier "gold"', '/keys/0/tier: unknown tier "silver"'], 'every dangling reference')
})

t.test('a file that is missing or not JSON names the file and the place', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'policy-'))
  t.teardown(() => rm(dir, { recursive: true }))
  const path = join(dir, 'policy.json')
  await writeFile(path, '{\n  "anonymous": { "enabled": true, }\n}')
  const notJson = t.throws(() => loadPolicyFile(path)) as PolicyError
  t.ok(notJson instanceof PolicyError)
  t.match(notJson.message, `Invalid POLICY_FILE ${path}: not JSON: `)
  t.match(notJson.message, /line 2/, 'the line of the mistake')
  t.match(t.throws(() => loadPolicyFile(join(dir, 'missing.json'))), { message: `Invalid POLICY_FILE ${join(dir, 'missing.json')}: no such file` })
  t.match(t.throws(() => loadPolicyFile(dir)), { message: /a directory/ })
})
