import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig, SETTING_NAMES } from '../../src/config.js'
import { DEPLOY_DIR, gatewayEnvironment, interpolate, readComposeFile, resolvedGatewayEnvironment, type ComposeService } from './compose-file.js'

const compose = await readComposeFile()
const nginx = await readFile(join(DEPLOY_DIR, 'nginx.conf'), 'utf8')
const gateway = compose.services.gateway as ComposeService
const environment = gatewayEnvironment(compose)
// The gateway's config as compose would start it, with FAL_KEY set in the environment.
const config = loadConfig(resolvedGatewayEnvironment(compose, { FAL_KEY: 'compose-test-key' }))

t.test('the gateway service sets only settings the gateway knows, with values it accepts', async t => {
  t.same(Object.keys(environment).filter(name => !SETTING_NAMES.includes(name)), [], 'every variable is a known setting')
  t.equal(config.falKey, 'compose-test-key', 'FAL_KEY comes from the environment, never from the file')
  t.same(config.redis?.topology, { kind: 'server', url: 'redis://redis:6379' }, 'replicas share one Redis')
  t.throws(() => interpolate(environment.FAL_KEY as string, {}), /FAL_KEY is required/, 'compose refuses to start without FAL_KEY')
})

t.test('two replicas of the image built from this project, stopped after their drain', async t => {
  t.equal(gateway.deploy?.replicas, 2, 'two replicas')
  t.ok(existsSync(join(DEPLOY_DIR, gateway.build as string, 'Dockerfile')), 'built from the project\'s Dockerfile')
  const stopGraceMs = Number(/^(\d+)s$/.exec(gateway.stop_grace_period ?? '')?.[1]) * 1000
  t.ok(stopGraceMs > config.shutdownGraceMs, `stop_grace_period (${stopGraceMs} ms) outlasts SHUTDOWN_GRACE_MS (${config.shutdownGraceMs} ms)`)
  t.equal(gateway.depends_on?.redis?.condition, 'service_healthy', 'started once Redis answers')
  t.ok(compose.services.redis, 'a Redis service')
  t.ok(compose.services.redis?.command?.includes('--appendonly'), 'Redis persists counters and ownership across its restarts')
})

t.test('the load balancer reaches every replica and is the only proxy the gateway trusts', async t => {
  const balancer = compose.services['load-balancer'] as ComposeService
  const address = (balancer.networks as Record<string, { ipv4_address?: string }>).gateway?.ipv4_address
  t.same(config.trustProxy, [address], 'TRUST_PROXY is the load balancer\'s fixed address')
  t.match(nginx, new RegExp(`server gateway:${config.port} resolve;`), 'nginx forwards to the gateway service on its port')
  t.match(nginx, /resolver 127\.0\.0\.11 valid=\d+s/, 'and asks Docker\'s DNS again, so recreated replicas are found')
  t.match(nginx, /proxy_next_upstream error timeout http_503;/, 'a poll answered 503 by a draining replica tries the other')
  t.notMatch(nginx, /non_idempotent/, 'a submit is never sent twice')
  const ipam = compose.networks?.gateway?.ipam?.config?.[0]
  t.notOk(inRange(address as string, ipam?.ip_range as string), 'automatic addresses cannot take the load balancer\'s')
  t.match(nginx, /proxy_buffering off;/, 'status streams are not buffered')
  t.match(nginx, /proxy_set_header X-Forwarded-For \$remote_addr;/, 'nginx replaces a client\'s own X-Forwarded-For')
  const maxBodyMiB = Number(/client_max_body_size (\d+)m;/.exec(nginx)?.[1])
  t.ok(maxBodyMiB * 1024 * 1024 > config.bodyLimit, 'nginx lets through every body the gateway accepts, so the gateway gives the typed error')
  t.equal(balancer.depends_on?.gateway?.condition, 'service_healthy', 'traffic starts once the replicas pass their HEALTHCHECK')
})

/** Whether an IPv4 address lies in a CIDR range. */
function inRange (address: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/')
  const value = (ip: string): number => ip.split('.').reduce((sum, part) => sum * 256 + Number(part), 0)
  const size = 2 ** (32 - Number(bits))
  return Math.floor(value(address) / size) === Math.floor(value(base) / size)
}
