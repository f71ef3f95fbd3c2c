import t from 'tap'
import { SignJWT } from 'jose'
import { generateClientKey } from '../../src/identity/client-keys.js'
import { parsePolicy } from '../../src/identity/policy-file.js'
import { createClientResolver } from '../../src/identity/resolve-client.js'

const SECRET = 'a-test-secret-of-at-least-32-characters!'
const rate = { max: 10, windowMs: 60_000 }
const tier = { submit: rate, poll: rate, upload: rate, maxInFlight: 2, dailySubmitQuota: 10 }
const live = generateClientKey()
const revoked = generateClientKey()

function policy (anonymousEnabled: boolean, withJwt = true) {
  return parsePolicy({
    anonymous: { enabled: anonymousEnabled, tier: 'free' },
    tiers: { free: tier, pro: tier },
    keys: [
      { id: 'acme-web', sha256: live.sha256, tier: 'pro' },
      { id: 'old', sha256: revoked.sha256, tier: 'pro', revoked: true }
    ],
    ...(withJwt ? { jwt: { secret: SECRET, issuer: 'issuer', audience: 'gateway', defaultTier: 'free' } } : {})
  })
}

const jwt = (claims: Record<string, unknown>, exp: string | number = '5m') => new SignJWT(claims)
  .setProtectedHeader({ alg: 'HS256' }).setIssuer('issuer').setAudience('gateway').setSubject('alice')
  .setExpirationTime(exp).sign(new TextEncoder().encode(SECRET))

t.test('a client key identifies its holder', async t => {
  const resolve = createClientResolver(policy(true))
  t.same(await resolve({ authorization: `Bearer ${live.key}`, ip: '192.0.2.1' }), { id: 'key:acme-web', kind: 'key', tier: 'pro' })
  t.same(await resolve({ authorization: `bearer  ${live.key}` }), { id: 'key:acme-web', kind: 'key', tier: 'pro' }, 'scheme is case-insensitive')
})

t.test('a JWT identifies its subject', async t => {
  const resolve = createClientResolver(policy(true))
  t.same(await resolve({ authorization: `Bearer ${await jwt({ tier: 'pro' })}` }), { id: 'jwt:alice', kind: 'jwt', tier: 'pro' })
})

t.test('a bad credential is refused, never anonymous', async t => {
  const resolve = createClientResolver(policy(true))
  const expired = await jwt({}, Math.floor(Date.now() / 1000) - 60)
  const cases: Array<[string, string]> = [
    ['wrong key', `Bearer ${generateClientKey().key}`],
    ['revoked key', `Bearer ${revoked.key}`],
    ['expired JWT', `Bearer ${expired}`],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
    ['fal key scheme', `Key ${live.key}`],
    ['empty bearer', 'Bearer '],
    ['two tokens', `Bearer ${live.key} ${live.key}`]
  ]
  for (const [name, authorization] of cases) {
    await t.rejects(resolve({ authorization, ip: '192.0.2.1' }), { code: 'INVALID_CREDENTIALS', statusCode: 401 }, name)
  }
})

t.test('JWTs are refused when the policy configures none', async t => {
  const resolve = createClientResolver(policy(true, false))
  await t.rejects(resolve({ authorization: `Bearer ${await jwt({})}` }), { code: 'INVALID_CREDENTIALS' })
})

t.test('no credential: anonymous by address when enabled', async t => {
  const resolve = createClientResolver(policy(true))
  t.same(await resolve({ ip: '2001:db8:1:2::99' }), { id: 'ip:2001:db8:1:2::/64', kind: 'anonymous', tier: 'free' })
  t.same(await resolve({ authorization: '', ip: '::ffff:192.0.2.1' }), { id: 'ip:192.0.2.1', kind: 'anonymous', tier: 'free' })
})

t.test('no credential: refused when anonymous access is off', async t => {
  const resolve = createClientResolver(policy(false))
  await t.rejects(resolve({ ip: '192.0.2.1' }), { code: 'ANONYMOUS_DISABLED', statusCode: 401 })
  t.same(await resolve({ authorization: `Bearer ${live.key}` }), { id: 'key:acme-web', kind: 'key', tier: 'pro' })
})
