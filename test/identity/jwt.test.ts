import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose'
import { createJwtVerifier } from '../../src/identity/jwt.js'

const SECRET = 'a-test-secret-of-at-least-32-characters!'
const ISSUER = 'https://auth.example.test/'
const AUDIENCE = 'fal-gateway'
const tiers = ['anonymous', 'pro']
const hsPolicy = { secret: SECRET, issuer: ISSUER, audience: AUDIENCE, tierClaim: 'plan', defaultTier: 'anonymous' }

interface Claims { iss?: string, aud?: string, sub?: string, exp?: number | string, plan?: unknown }

function hs256 (claims: Claims = {}, secret = SECRET): Promise<string> {
  const { iss = ISSUER, aud = AUDIENCE, sub = 'alice', exp = '5m', ...rest } = claims
  return new SignJWT(rest).setProtectedHeader({ alg: 'HS256' }).setIssuer(iss).setAudience(aud)
    .setSubject(sub).setIssuedAt().setExpirationTime(exp).sign(new TextEncoder().encode(secret))
}

t.test('HS256: a valid token gives its subject and tier claim', async t => {
  const verify = createJwtVerifier(hsPolicy, { tiers })
  t.same(await verify(await hs256({ plan: 'pro' })), { subject: 'alice', tier: 'pro' })
  t.same(await verify(await hs256()), { subject: 'alice', tier: 'anonymous' }, 'no claim: default tier')
})

t.test('HS256: bad tokens are refused as invalid credentials', async t => {
  const verify = createJwtVerifier(hsPolicy, { tiers })
  const bad: Array<[string, Promise<string> | string]> = [
    ['expired', hs256({ exp: Math.floor(Date.now() / 1000) - 60 })],
    ['wrong issuer', hs256({ iss: 'https://evil.example/' })],
    ['wrong audience', hs256({ aud: 'someone-else' })],
    ['bad signature', hs256({}, 'another-secret-of-at-least-32-characters')],
    ['tampered payload', hs256().then(token => {
      const [header, , signature] = token.split('.')
      const payload = Buffer.from(JSON.stringify({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', exp: 9e9 })).toString('base64url')
      return `${header}.${payload}.${signature}`
    })],
    ['alg none', unsigned({ iss: ISSUER, aud: AUDIENCE, sub: 'mallory', exp: Math.floor(Date.now() / 1000) + 300 })],
    ['unknown tier', hs256({ plan: 'platinum' })],
    ['non-string tier', hs256({ plan: ['pro'] })],
    ['garbage', 'a.b.c']
  ]
  for (const [name, token] of bad) {
    await t.rejects(verify(await token), { code: 'INVALID_CREDENTIALS', statusCode: 401 }, name)
  }
})

function unsigned (payload: object): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`
}

async function jwksServer (t: Test, jwks: () => { status: number, body: string }): Promise<string> {
  const server: Server = createServer((_req, res) => {
    const { status, body } = jwks()
    res.writeHead(status, { 'content-type': 'application/json' }).end(body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => new Promise(resolve => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`
}

t.test('JWKS: tokens signed by a published key pass, others do not', async t => {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const published: JWK = { ...await exportJWK(publicKey), kid: 'k1', alg: 'ES256' }
  const jwksUrl = await jwksServer(t, () => ({ status: 200, body: JSON.stringify({ keys: [published] }) }))
  const verify = createJwtVerifier({ ...hsPolicy, secret: undefined, jwksUrl }, { tiers })
  const sign = (key: CryptoKey, kid = 'k1') => new SignJWT({ plan: 'pro' }).setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('bob').setExpirationTime('5m').sign(key)

  t.same(await verify(await sign(privateKey)), { subject: 'bob', tier: 'pro' })
  const stranger = await generateKeyPair('ES256')
  await t.rejects(verify(await sign(stranger.privateKey)), { code: 'INVALID_CREDENTIALS' }, 'unpublished key')
  await t.rejects(verify(await hs256({ plan: 'pro' })), { code: 'INVALID_CREDENTIALS' }, 'HS256 is not accepted from a JWKS issuer')
  await t.rejects(verify(unsigned({ iss: ISSUER, aud: AUDIENCE, sub: 'x', exp: 9e9 })), { code: 'INVALID_CREDENTIALS' }, 'alg none')
})

t.test('JWKS endpoint failing is the provider\'s fault, not the client\'s', async t => {
  const { privateKey } = await generateKeyPair('ES256')
  const jwksUrl = await jwksServer(t, () => ({ status: 500, body: 'oops' }))
  const verify = createJwtVerifier({ ...hsPolicy, secret: undefined, jwksUrl }, { tiers })
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(ISSUER).setAudience(AUDIENCE).setSubject('bob').setExpirationTime('5m').sign(privateKey)
  await t.rejects(verify(token), { code: 'IDENTITY_PROVIDER_UNAVAILABLE', statusCode: 503 })
})
