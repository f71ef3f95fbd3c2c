import type { Config, RateLimit, RedisNode, RedisTopology } from '../config.js'
import type { EnvWithFile } from '../env-file.js'

export interface BannerFacts {
  emulatorUrl: string
  /** The default emulator port, when it was taken. */
  emulatorPortTaken?: number
  envFile?: EnvWithFile['file']
}

/** An address a browser on this machine can open: a wildcard listen address is reached on localhost. */
function reachableUrl (host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::') return `http://localhost:${port}`
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

const rate = (count: RateLimit, what: string): string =>
  `${count.max} ${what} per ${count.windowMs % 1000 === 0 ? `${count.windowMs / 1000} s` : `${count.windowMs} ms`}`

/** Where Redis is, without the password a REDIS_URL may carry. */
function redisWhere (topology: RedisTopology): string {
  const nodes = (list: RedisNode[]): string => list.map(({ host, port }) => `${host}:${port}`).join(', ')
  switch (topology.kind) {
    case 'server': {
      const parsed = new URL(topology.url)
      return `at ${parsed.protocol}//${parsed.host}`
    }
    case 'sentinel': return `master "${topology.masterName}" of the sentinels ${nodes(topology.sentinels)}`
    case 'cluster': return `Cluster at ${nodes(topology.nodes)}`
  }
}

/**
 * What `npm run dev` prints once it listens: where everything is, and the settings a frontend
 * developer runs into (CORS, limits, where settings came from), each with the variable that changes it.
 */
export function devBanner (config: Config, facts: BannerFacts): string {
  const gateway = reachableUrl(config.host, config.port)
  const tier = config.defaultTier
  const limits = config.policyFile !== undefined
    ? `the tiers of POLICY_FILE ${config.policyFile}`
    : `${rate(config.rateLimits.submit, 'submits')}, ${rate(config.rateLimits.poll, 'polls')}, ${rate(config.rateLimits.upload, 'uploads')}; ` +
      `${tier.maxInFlight} jobs in flight, ${tier.dailySubmitQuota} submits a day (RATE_LIMIT_*, MAX_IN_FLIGHT, DAILY_SUBMIT_QUOTA)`
  const extraOrigins = config.corsOrigins.length > 0 ? `, and ${config.corsOrigins.join(', ')}` : ''
  const emulatorNote = facts.emulatorPortTaken !== undefined ? ` (port ${facts.emulatorPortTaken} was taken; EMULATOR_PORT picks one)` : ''
  const envFile = facts.envFile === undefined
    ? 'no .env in this directory: defaults and the environment'
    : `${facts.envFile.path} (${facts.envFile.names.length} settings; the environment wins over it)`
  const rows: Array<[string, string]> = [
    ['Gateway', `${gateway}  (PORT, HOST)`],
    ['proxyUrl', `${gateway}/api/fal/proxy  (for @fal-ai/client)`],
    ['API docs', `${gateway}/docs`],
    ['Demo', config.demoEnabled ? `${gateway}/demo` : 'off (DEMO_ENABLED)'],
    ['Emulator', `${facts.emulatorUrl}, playing fal: no fal account needed${emulatorNote}`],
    ['CORS', `any http://localhost:<port> or http://127.0.0.1:<port> origin${extraOrigins}  (CORS_ORIGINS)`],
    ['Limits', `per client: ${limits}`],
    ['Body limit', `${config.bodyLimit} bytes  (BODY_LIMIT)`],
    ['Counters', config.redis === undefined ? 'in memory  (REDIS_URL)' : `in Redis ${redisWhere(config.redis.topology)}`],
    ['Settings', envFile],
    ['Logs', `${config.logLevel}, readable  (LOG_LEVEL)`]
  ]
  const width = Math.max(...rows.map(([label]) => label.length))
  return [
    '',
    'fal-gateway in development mode (npm run dev): not for production',
    '',
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    '',
    ''
  ].join('\n')
}
