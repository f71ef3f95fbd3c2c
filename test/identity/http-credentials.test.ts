import t, { type Test } from 'tap'
import { startGateway, type TestGateway, type TestResponse } from '../helpers/gateway.js'
import { KEYS, signToken, unsignedToken, writePolicyFile } from '../plugins/policy-fixture.js'
import { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, operateVia, submitVia, type Route } from '../replicas/cluster.js'

const ROUTES: Route[] = ['typed', 'proxy']

// Each tier has its own poll budget, so `x-ratelimit-limit` on any poll tells which tier was applied.
const POLL_MAX = { anonymous: 100, basic: 200, pro: 300 }

async function policyGateway (t: Test): Promise<TestGateway> {
  const policy = writePolicyFile(t, {
    anonymous: { pollMax: POLL_MAX.anonymous, models: [ILLUSION] },
    basic: { pollMax: POLL_MAX.basic },
    pro: { pollMax: POLL_MAX.pro }
  })
  return await startGateway(t, { env: { POLICY_FILE: policy } })
}

/** A poll of an id nobody owns: charged to the caller's poll budget, never sent to fal. */
async function pollAs (gateway: TestGateway, route: Route, bearer?: string, headers?: Record<string, string>): Promise<TestResponse> {
  return await operateVia(gateway, route, 'status', UNKNOWN_REQUEST_ID, { bearer, headers })
}

function checkRefused (t: Test, answer: TestResponse, status: number, code: string, what: string): void {
  t.equal(answer.status, status, `${what}: ${status}`)
  t.equal(answer.json().code, code, `${what}: ${code}`)
}

t.test('client keys: the right key gets its tier, a wrong or revoked one is refused', async t => {
  const gateway = await policyGateway(t)
  for (const route of ROUTES) {
    const alice = await pollAs(gateway, route, KEYS.alice)
    t.equal(alice.status, 404, `alice's poll is admitted (${route})`)
    t.equal(alice.headers.get('x-ratelimit-limit'), String(POLL_MAX.pro), `alice's key gets the pro tier (${route})`)
    t.equal((await pollAs(gateway, route, KEYS.carol)).headers.get('x-ratelimit-limit'), String(POLL_MAX.basic), `carol's key gets the basic tier (${route})`)
    t.equal((await pollAs(gateway, route)).headers.get('x-ratelimit-limit'), String(POLL_MAX.anonymous), `no credentials: the anonymous tier (${route})`)

    checkRefused(t, await pollAs(gateway, route, 'gw_not-a-key-anyone-was-given'), 401, 'INVALID_CREDENTIALS', `an unknown key (${route})`)
    checkRefused(t, await pollAs(gateway, route, KEYS.revoked), 401, 'INVALID_CREDENTIALS', `a revoked key (${route})`)
    checkRefused(t, await submitVia(gateway, route, { bearer: KEYS.revoked }), 401, 'INVALID_CREDENTIALS', `a submit with a revoked key (${route})`)
    checkRefused(t, await pollAs(gateway, route, undefined, { authorization: `Basic ${Buffer.from('alice:x').toString('base64')}` }),
      401, 'INVALID_CREDENTIALS', `a non-Bearer authorization (${route})`)
    checkRefused(t, await pollAs(gateway, route, undefined, { authorization: `Bearer ${KEYS.alice} extra` }),
      401, 'INVALID_CREDENTIALS', `a malformed Bearer header (${route})`)
  }
  t.same(gateway.emulator.calls, [], 'nothing reached fal')
})

t.test("a tier's model allowlist is enforced on both routes", async t => {
  const gateway = await policyGateway(t)
  for (const route of ROUTES) {
    const refused = await submitVia(gateway, route, { appId: LAYER })
    checkRefused(t, refused, 403, 'MODEL_NOT_ALLOWED', `an anonymous submit to a model outside its tier (${route})`)
    checkRefused(t, await operateVia(gateway, route, 'status', UNKNOWN_REQUEST_ID, { appId: LAYER }), 403, 'MODEL_NOT_ALLOWED', `an anonymous poll of that model (${route})`)
  }
  t.equal(gateway.emulator.calls.length, 0, 'refused submits never reach fal')
  for (const route of ROUTES) {
    const anonymous = await submitVia(gateway, route, { appId: ILLUSION })
    t.ok(anonymous.status === 200 || anonymous.status === 202, `the anonymous tier may use its model (${route})`)
    const pro = await submitVia(gateway, route, { appId: LAYER, bearer: KEYS.alice })
    t.ok(pro.status === 200 || pro.status === 202, `a tier without a list may use every model (${route})`)
  }
  t.equal(gateway.emulator.callsOf('submit').length, 4, 'only the allowed submits reached fal')
})

t.test('JWTs: a valid token gets its tier; expired, foreign, forged or unsigned tokens are refused', async t => {
  const gateway = await policyGateway(t)
  const valid = await signToken('user-1', { claims: { tier: 'pro' } })
  const noTierClaim = await signToken('user-2')
  const refused: Record<string, string> = {
    expired: await signToken('user-1', { claims: { tier: 'pro' }, expiresIn: -120 }),
    'wrong issuer': await signToken('user-1', { issuer: 'https://evil.example/' }),
    'wrong audience': await signToken('user-1', { audience: 'another-service' }),
    'bad signature': await signToken('user-1', { secret: 'another-secret-of-at-least-32-characters' }),
    'alg: none': unsignedToken('user-1', { tier: 'pro' }),
    'an unknown tier': await signToken('user-1', { claims: { tier: 'platinum' } }),
    'a tampered payload': tamper(valid)
  }
  for (const route of ROUTES) {
    const admitted = await pollAs(gateway, route, valid)
    t.equal(admitted.status, 404, `a valid token is admitted (${route})`)
    t.equal(admitted.headers.get('x-ratelimit-limit'), String(POLL_MAX.pro), `its tier claim applies (${route})`)
    t.equal((await pollAs(gateway, route, noTierClaim)).headers.get('x-ratelimit-limit'), String(POLL_MAX.anonymous), `no tier claim: the policy's default tier (${route})`)
    for (const [what, token] of Object.entries(refused)) {
      checkRefused(t, await pollAs(gateway, route, token), 401, 'INVALID_CREDENTIALS', `${what} (${route})`)
    }
    checkRefused(t, await submitVia(gateway, route, { bearer: refused.expired }), 401, 'INVALID_CREDENTIALS', `a submit with an expired token (${route})`)
  }
  t.equal(gateway.emulator.calls.length, 0, 'nothing reached fal')

  const submitted = await submitVia(gateway, 'typed', { bearer: valid })
  t.equal(submitted.status, 202, 'a valid token submits')
  const id = submitted.json().request_id as string
  const sameSubject = await signToken('user-1', { claims: { tier: 'pro' }, expiresIn: 300 })
  const polled = await operateVia(gateway, 'proxy', 'status', id, { bearer: sameSubject })
  t.ok(polled.status === 200 || polled.status === 202, `another token of the same subject is the same client (${polled.status})`)
  t.equal((await operateVia(gateway, 'proxy', 'status', id, { bearer: noTierClaim })).status, 404, 'a token of another subject is another client')
})

t.test('ANONYMOUS_ENABLED=false: a request without credentials is 401 ANONYMOUS_DISABLED', async t => {
  const gateway = await startGateway(t, { env: { ANONYMOUS_ENABLED: 'false' } })
  for (const route of ROUTES) {
    checkRefused(t, await submitVia(gateway, route), 401, 'ANONYMOUS_DISABLED', `an anonymous submit (${route})`)
    checkRefused(t, await pollAs(gateway, route), 401, 'ANONYMOUS_DISABLED', `an anonymous poll (${route})`)
  }
  t.equal(gateway.emulator.calls.length, 0, 'nothing reached fal')
})

/** The same token with one character of its payload changed, its signature kept. */
function tamper (token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string]
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>
  return [header, Buffer.from(JSON.stringify({ ...claims, sub: 'user-9' })).toString('base64url'), signature].join('.')
}
