import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ConfigError, SETTING_NAMES, loadConfig } from '../src/config.js'

const KEY = 'config-test-id:config-test-secret'
const root = fileURLToPath(new URL('..', import.meta.url))

function refusal (env: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  return undefined
}

t.test('a missing key is refused, naming FAL_KEY', async t => {
  const envs: Array<Record<string, string>> = [{}, { FAL_KEY: '' }, { FAL_KEY_ID: 'id-only' }, { FAL_KEY_SECRET: 'secret-only' }]
  for (const env of envs) {
    const error = refusal(env)
    t.ok(error instanceof ConfigError, `refused: ${JSON.stringify(env)}`)
    t.match(error?.message, /FAL_KEY/)
    t.notMatch(error?.message, /\n/, 'one line')
  }
})

t.test('FAL_KEY_ID and FAL_KEY_SECRET together stand for FAL_KEY', async t => {
  t.equal(loadConfig({ FAL_KEY_ID: 'the-id', FAL_KEY_SECRET: 'the-secret' }).falKey, 'the-id:the-secret')
  t.equal(loadConfig({ FAL_KEY: KEY }).falKey, KEY)
})

t.test('an invalid value is refused with one line naming its variable, never the key', async t => {
  const invalid: Array<[string, string]> = [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['LOG_LEVEL', 'verbose'],
    ['FAL_QUEUE_URL', 'queue.fal.run'],
    ['FAL_QUEUE_URL', 'ftp://queue.example.com'],
    ['FAL_REST_URL', 'javascript:alert(1)'],
    ['PUBLIC_URL', 'gateway.example.com'],
    ['BODY_LIMIT', 'lots'],
    ['RATE_LIMIT_SUBMIT_MAX', '-3'],
    ['UPSTREAM_TIMEOUT_MS', '0'],
    ['NODE_ENV', 'staging']
  ]
  for (const [name, value] of invalid) {
    const error = refusal({ FAL_KEY: KEY, [name]: value })
    t.ok(error instanceof ConfigError, `${name}=${value} is refused`)
    t.match(error?.message, new RegExp(`\\b${name}\\b`), `${name}=${value}: the message names ${name}`)
    t.notMatch(error?.message, /\n/, 'one line')
    t.notOk(error?.message.includes(KEY.split(':')[1] as string), 'the message does not carry the key')
  }
})

t.test('defaults', async t => {
  const config = loadConfig({ FAL_KEY: KEY })
  t.match(config, {
    port: 3000,
    host: '0.0.0.0',
    logLevel: 'info',
    falQueueUrl: 'https://queue.fal.run',
    falRestUrl: 'https://rest.fal.ai',
    corsOrigins: [],
    corsLoopbackOrigins: false,
    trustProxy: [],
    webhookHosts: [],
    bodyLimit: 10 * 1024 * 1024,
    rateLimits: { submit: { max: 10, windowMs: 60_000 }, poll: { max: 600, windowMs: 60_000 } }
  })
  t.equal(config.publicUrl, undefined)
  t.same(loadConfig({ FAL_KEY: KEY, PORT: '', HOST: '' }).port, 3000, 'an empty variable counts as unset')
  t.equal(loadConfig({ FAL_KEY: KEY, NODE_ENV: 'development' }).corsLoopbackOrigins, true, 'loopback origins in development only')
})

t.test('values are read as documented', async t => {
  const config = loadConfig({
    FAL_KEY: KEY,
    PORT: '8080',
    LOG_LEVEL: 'warn',
    PUBLIC_URL: 'https://gateway.example.com/',
    FAL_QUEUE_URL: 'http://127.0.0.1:4000/',
    FAL_REST_URL: 'http://127.0.0.1:4001',
    CORS_ORIGINS: 'https://app.example.com, https://admin.example.com',
    WEBHOOK_HOSTS: 'Hooks.Example.com,*.example.org',
    RATE_LIMIT_SUBMIT_MAX: '3',
    RATE_LIMIT_POLL_WINDOW: '1000'
  })
  t.match(config, {
    port: 8080,
    logLevel: 'warn',
    publicUrl: 'https://gateway.example.com',
    falQueueUrl: 'http://127.0.0.1:4000',
    falRestUrl: 'http://127.0.0.1:4001',
    corsOrigins: ['https://app.example.com', 'https://admin.example.com'],
    webhookHosts: ['hooks.example.com', '*.example.org'],
    rateLimits: { submit: { max: 3 }, poll: { windowMs: 1000 } }
  })
})

t.test('the real entry exits non-zero with one stderr line naming FAL_KEY when it is missing', async t => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('FAL_') && name !== 'NODE_OPTIONS'))
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  t.teardown(() => { clearTimeout(killer) })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => { stderr += chunk })
  child.stdout.resume()
  const [code] = await once(child, 'exit') as [number | null]
  t.not(code, 0, 'exit code is non-zero')
  t.not(code, null, 'the process exited by itself')
  const lines = stderr.split('\n').filter(line => line.trim().length > 0)
  t.equal(lines.length, 1, 'exactly one stderr line')
  t.match(lines[0], /FAL_KEY/, 'the line names FAL_KEY')
})

t.test('.env.example documents every setting', async t => {
  const example = await readFile(new URL('../.env.example', import.meta.url), 'utf8')
  const undocumented = SETTING_NAMES.filter(name => !new RegExp(`^#? ?${name}=`, 'm').test(example))
  t.same(undocumented, [])
})

t.test('spend settings: budgets in micro-USD, fallback units per fal unit, named when wrong', async t => {
  const spend = loadConfig({ FAL_KEY: KEY, GLOBAL_BUDGET_DAY_MICRO_USD: '50000000', CLIENT_BUDGET_MONTH_MICRO_USD: '1000000', PRICE_FALLBACK_UNITS: 'compute seconds=12', USAGE_RETENTION_DAYS: '30' }).spend
  t.same(spend.globalBudget, { dayMicroUsd: 50_000_000 })
  t.same(spend.clientBudget, { monthMicroUsd: 1_000_000 })
  t.same(spend.fallbackUnits, { compute_second: 12 })
  t.equal(spend.retentionMs, 30 * 86_400_000)
  t.same(loadConfig({ FAL_KEY: KEY }).spend.fallbackUnits, { compute_second: 30, thousand_characters: 1, minute: 1, megapixel: 1, second: 10, unknown: 1 })
  for (const [name, value] of [['PRICE_FALLBACK_UNITS', 'parsecs=3'], ['PRICE_FALLBACK_UNITS', 'compute seconds'], ['GLOBAL_BUDGET_DAY_MICRO_USD', '0.10'], ['RESERVATION_EXPIRY_MS', '10']]) {
    t.match(refusal({ FAL_KEY: KEY, [name as string]: value as string })?.message, new RegExp(`^Invalid ${name}`), `${name}=${value}`)
  }
})

t.test('webhook settings: FAL_WEBHOOKS=on needs PUBLIC_URL; the JWKS follows FAL_REST_URL unless set', async t => {
  t.match(refusal({ FAL_KEY: KEY, FAL_WEBHOOKS: 'on' })?.message, /FAL_WEBHOOKS.*PUBLIC_URL/)
  t.match(refusal({ FAL_KEY: KEY, WEBHOOK_SECRET: 'not-a-whsec' })?.message, /WEBHOOK_SECRET/)
  const on = loadConfig({ FAL_KEY: KEY, FAL_WEBHOOKS: 'on', PUBLIC_URL: 'https://gw.example.com' })
  t.match(on.falWebhooks, { enabled: true, jwksUrl: 'https://rest.fal.ai/.well-known/jwks.json' })
  t.equal(loadConfig({ FAL_KEY: KEY, FAL_REST_URL: 'http://127.0.0.1:4000/' }).falWebhooks.jwksUrl, 'http://127.0.0.1:4000/.well-known/jwks.json')
  t.equal(loadConfig({ FAL_KEY: KEY, FAL_JWKS_URL: 'https://keys.example.com/jwks.json' }).falWebhooks.jwksUrl, 'https://keys.example.com/jwks.json')
  t.equal(loadConfig({ FAL_KEY: KEY }).falWebhooks.enabled, false, 'off by default')
  t.equal(loadConfig({ FAL_KEY: KEY }).clientWebhooks.allowLoopback, false)
})

t.test('Redis: one server, a Sentinel group or a Cluster; mixing them is refused in one line', async t => {
  t.same(loadConfig({ FAL_KEY: KEY, REDIS_URL: 'redis://r:6379' }).redis?.topology, { kind: 'server', url: 'redis://r:6379' })
  t.same(loadConfig({ FAL_KEY: KEY, REDIS_SENTINELS: 's1:26379, [::1]:26380', REDIS_SENTINEL_NAME: 'main', REDIS_PASSWORD: 'pw', REDIS_SENTINEL_PASSWORD: 'spw' }).redis?.topology, {
    kind: 'sentinel', sentinels: [{ host: 's1', port: 26379 }, { host: '::1', port: 26380 }], masterName: 'main', sentinelPassword: 'spw', auth: { password: 'pw' }
  })
  t.same(loadConfig({ FAL_KEY: KEY, REDIS_CLUSTER_NODES: 'c1:7000,c2:7001', REDIS_USERNAME: 'gw', REDIS_PASSWORD: 'pw' }).redis?.topology, {
    kind: 'cluster', nodes: [{ host: 'c1', port: 7000 }, { host: 'c2', port: 7001 }], auth: { username: 'gw', password: 'pw' }
  })
  t.same(loadConfig({ FAL_KEY: KEY, REDIS_URL: 'redis://r:6379' }).redis?.replicaAcks, { replicas: 0, timeoutMs: 100 }, 'WAIT is off by default')

  const refused: Array<[Record<string, string>, string]> = [
    [{ REDIS_URL: 'redis://r:6379', REDIS_CLUSTER_NODES: 'c1:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINELS'],
    [{ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'main', REDIS_CLUSTER_NODES: 'c1:7000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_SENTINELS: 's1:26379' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_SENTINEL_NAME: 'main' }, 'REDIS_SENTINEL_NAME'],
    [{ REDIS_CLUSTER_NODES: 'c1' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'c1:99999' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: ' , ' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'pw' }, 'REDIS_PASSWORD'],
    [{ REDIS_CLUSTER_NODES: 'c1:7000', REDIS_SENTINEL_PASSWORD: 'pw' }, 'REDIS_SENTINEL_PASSWORD'],
    [{ REDIS_URL: 'redis://r:6379', REDIS_WAIT_REPLICAS: '1', REDIS_WAIT_TIMEOUT_MS: '500' }, 'REDIS_WAIT_TIMEOUT_MS']
  ]
  for (const [env, name] of refused) {
    const error = refusal({ FAL_KEY: KEY, ...env })
    t.ok(error instanceof ConfigError, `${JSON.stringify(env)} is refused`)
    t.match(error?.message, new RegExp(`^Invalid ${name}:`), `naming ${name}`)
    t.notMatch(error?.message, /\n|pw/, 'in one line, without the password')
  }
})
