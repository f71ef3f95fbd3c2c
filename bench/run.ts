import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startRedisServer, type RedisServer } from '../test/helpers/redis-server.js'
import { renderChart } from './chart.js'
import { runLoad, type LoadResult, type Poll } from './load.js'
import { cpuSnapshot, othersShare, processCpuMs, waitForQuiet } from './machine.js'
import { measureTrackedMemory, type TrackedMemory } from './memory.js'
import { measureUpstreamCalls, renderUpstreamCalls } from './upstream-calls.js'
import { measureStatusStreams, renderStatusStreams } from './status-streams.js'
import { runPaced } from './paced.js'
import { freePort, killAllChildren, startChild, type Child } from './processes.js'
import { summariseProfile, type CpuProfile, type ProfileSummary } from './profile.js'
import { perfNodeFlags, perfWorks, recordOnCpu, removePerfMap, summariseOnCpu } from './on-cpu-profile.js'
import { renderReport, type HalfLoad, type OnCpuRow, type ReportInput, type TargetSummary } from './report.js'
import { median } from './stats.js'
import { fetchPatiently, submitJobs } from './submit.js'
import { measureCatalogSubmits, renderSubmitRows } from './catalog-submit.js'

/**
 * `npm run bench`: fal-gateway against fal's official proxy and against the emulator alone, each
 * in its own process on loopback; writes BENCHMARKS.md and bench/results.svg. Entry point: the only
 * bench file that reads the environment (BENCH_QUICK=1 for a short smoke run, BENCH_ONLY=profile).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const QUICK = process.env.BENCH_QUICK === '1'
/**
 * BENCH_ONLY=profile: only the profiling run, its summary on stderr; BENCH_ONLY=cpu: only CPU µs
 * per poll of the floor, the bare forwarder and both routes, over a fixed count of polls;
 * BENCH_ONLY=perf: only perf's on-CPU breakdown. To look at a change quickly, and to bound what a
 * run costs the machine's other users.
 */
const ONLY = process.env.BENCH_ONLY
const CPU_POLLS = QUICK ? 3000 : 20_000
const SETTINGS = {
  connections: 50,
  durationS: QUICK ? 2 : 5,
  rounds: QUICK ? 1 : 3,
  warmupS: QUICK ? 1 : 2,
  requestIds: 1000,
  halfLoadDurationS: QUICK ? 2 : 4,
  logLevel: 'warn'
}
const PROFILE_DURATION_S = QUICK ? 2 : 5
/** Polls per target of the on-CPU breakdown (perf samples ~3,000 times per second of CPU). */
const ON_CPU_POLLS = QUICK ? 5000 : 40_000
const TRACKED_REQUESTS = QUICK ? 100_000 : 1_000_000
// On 2 cores any other process's work comes straight out of the figures: wait for a quiet machine.
const QUIET_THRESHOLD = 0.15
const QUIET_WAIT_MS = QUICK ? 5000 : 60_000
// Past this the run is broken, not slow: everything is torn down and the run fails.
const RUN_DEADLINE_MS = 25 * 60_000
const FAL_KEY = 'bench-key-id:bench-key-secret'
const APP_ID = 'fal-ai/layer-diffusion'
const CHART_FILE = 'bench/results.svg'
/**
 * BENCH_BASELINE=<dir>: a checkout of an earlier commit with its node_modules; its gateway runs as
 * more rows of the same run (interleaved, so the machine's noise hits both alike): before/after.
 */
const BASELINE_ROOT = process.env.BENCH_BASELINE
/** Cached rows: fresh and kept for longer than any run, so every poll of the load is a hit. */
const CACHE_KEPT_MS = String(3600_000)
const BASE_ENV = { PATH: process.env.PATH ?? '', ...(process.env.TMPDIR === undefined ? {} : { TMPDIR: process.env.TMPDIR }) }

interface Target {
  key: string
  label: string
  kind: TargetSummary['kind']
  url: string
  next: () => Poll
  /** The process doing the forwarding (the emulator for the floor), whose CPU time per poll is reported. */
  pid: number | undefined
  /**
   * Cached rows: their gateway's own emulator, whose calls during each load are counted (they must
   * be none). Not the shared one: the gateway loaded just before still sends its backlog there.
   */
  countUpstream?: string
}

const started = Date.now()
const log = (message: string) => { process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${message}\n`) }

let redis: RedisServer | undefined
const teardown = () => {
  killAllChildren()
  redis?.kill().catch(() => {})
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`${signal}: stopping every child`)
    teardown()
    process.exit(130)
  })
}
setTimeout(() => {
  log(`still running after ${RUN_DEADLINE_MS / 60_000} min: giving up`)
  teardown()
  process.exit(1)
}, RUN_DEADLINE_MS).unref()

/** Polls cycle through the ids, one counter per target, so every id is hit in turn. */
function cycle (ids: string[], poll: (id: string) => Poll): () => Poll {
  let i = 0
  return () => poll(ids[i++ % ids.length] as string)
}

function gatewayEnv (emulatorUrl: string, port: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    FAL_KEY,
    FAL_QUEUE_URL: emulatorUrl,
    FAL_REST_URL: emulatorUrl,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: SETTINGS.logLevel,
    // Generous limits: the benchmark measures the checks, it must not trip them.
    RATE_LIMIT_SUBMIT_MAX: '1000000000',
    RATE_LIMIT_POLL_MAX: '1000000000',
    MAX_IN_FLIGHT: '1000000',
    DAILY_SUBMIT_QUOTA: '1000000',
    SHUTDOWN_GRACE_MS: '2000',
    // Caching off, as the issue's targets are stated: every poll reaches the emulator.
    POLL_CACHE_MAX_BYTES: '0',
    POLL_PENDING_FRESH_MS: '0',
    POLL_COMPLETED_TTL_MS: '0',
    ...extra
  }
}

async function startGateway (name: string, emulatorUrl: string, extra: Record<string, string> = {}, nodeArgs: string[] = [], root = ROOT): Promise<Child> {
  const port = await freePort()
  const url = `http://127.0.0.1:${port}`
  return await startChild({
    name,
    script: join(ROOT, 'bench/children/gateway.ts'),
    env: { ...BASE_ENV, ...gatewayEnv(emulatorUrl, port, extra), BENCH_GATEWAY_DIST: join(root, 'dist') },
    nodeArgs,
    ready: { url, path: '/readyz' }
  })
}

const typedPoll = (id: string): Poll => ({ path: `/queue/${APP_ID}/requests/${id}/status`, headers: {} })
const proxyPoll = (id: string): Poll => ({
  path: '/api/fal/proxy',
  headers: { 'x-fal-target-url': `https://queue.fal.run/${APP_ID}/requests/${id}/status?logs=0` }
})
const typedResult = (id: string): Poll => ({ path: `/queue/${APP_ID}/requests/${id}`, headers: {} })
const proxyResult = (id: string): Poll => ({
  path: '/api/fal/proxy',
  headers: { 'x-fal-target-url': `https://queue.fal.run/${APP_ID}/requests/${id}` }
})

async function upstreamCallCount (emulatorUrl: string): Promise<number> {
  return (await (await fetch(`${emulatorUrl}/_emulator/calls`)).json() as unknown[]).length
}

/** One poll of every id, so the cached rows' loads find every answer in the cache. */
async function warmCache (target: Target, ids: string[]): Promise<void> {
  for (const id of ids) {
    const poll = target.next()
    const { status, text } = await fetchPatiently(target.url + poll.path, { headers: poll.headers })
    if (status !== 200 && status !== 202) throw new Error(`${target.label}: warming the cache, a poll of ${id} answered ${status}: ${text.slice(0, 300)}`)
  }
}

/**
 * Two polls of one id per target before any load: a misconfigured target fails the run here, with
 * its answer, and so does a gateway that answered the second poll without asking the emulator
 * (a cache left on would measure the cache, not the forwarding).
 */
async function checkTarget (target: Target, emulatorUrl: string): Promise<void> {
  const poll = target.next()
  const upstream = target.countUpstream ?? emulatorUrl
  await fetch(`${upstream}/_emulator/calls`, { method: 'DELETE' })
  for (let i = 0; i < 2; i++) {
    const { status, text } = await fetchPatiently(target.url + poll.path, { headers: poll.headers })
    const expected = target.countUpstream === undefined ? status === 200 && text.includes('"COMPLETED"') : status === 200 || status === 202
    if (!expected) throw new Error(`${target.label}: a poll answered ${status}: ${text.slice(0, 300)}`)
  }
  const calls = await upstreamCallCount(upstream)
  const wanted = target.countUpstream === undefined ? 2 : 0
  if (calls !== wanted) throw new Error(`${target.label}: two polls made ${calls} call(s) to the emulator, not ${wanted}`)
}

function logRun (label: string, result: { rps: number, p50: number, p99: number }, failures: number, others: number | undefined, rate?: number): void {
  log(`${label.padEnd(58)} ${rate === undefined ? '' : `@${rate}/s `}${Math.round(result.rps).toString().padStart(6)} req/s  p50 ${result.p50.toFixed(2)}  p99 ${result.p99.toFixed(2)} ms` +
    `${others === undefined ? '' : `  others ${(others * 100).toFixed(0)} % CPU`}${failures > 0 ? `  FAILED ${failures}` : ''}`)
}

type MeasuredLoad = LoadResult & { cpuUsPerPoll: number | undefined, upstreamCalls: number | undefined }

async function load (target: Target, durationS: number): Promise<MeasuredLoad> {
  const before = cpuSnapshot()
  if (target.countUpstream !== undefined) await fetch(`${target.countUpstream}/_emulator/calls`, { method: 'DELETE' })
  const cpuBefore = target.pid === undefined ? undefined : processCpuMs(target.pid)
  const result = await runLoad({ url: target.url, connections: SETTINGS.connections, durationS, next: target.next })
  const cpuAfter = target.pid === undefined ? undefined : processCpuMs(target.pid)
  const upstreamCalls = target.countUpstream === undefined ? undefined : await upstreamCallCount(target.countUpstream)
  const cpuUsPerPoll = cpuBefore === undefined || cpuAfter === undefined || result.responses === 0
    ? undefined
    : ((cpuAfter - cpuBefore) * 1000) / result.responses
  logRun(target.label, result, result.non2xx + result.errors + result.timeouts, othersShare(before, cpuSnapshot()))
  return { ...result, cpuUsPerPoll, upstreamCalls }
}

async function paced (target: Target, rate: number): Promise<{ p50: number, failures: number }> {
  const before = cpuSnapshot()
  const result = await runPaced({ url: target.url, rate, durationS: SETTINGS.halfLoadDurationS, connections: SETTINGS.connections, next: target.next })
  logRun(target.label, result, result.failures, othersShare(before, cpuSnapshot()), rate)
  return result
}

function summarise (target: Target, results: MeasuredLoad[]): TargetSummary {
  const cpu = results.map(r => r.cpuUsPerPoll).filter(us => us !== undefined)
  return {
    cpuUsPerPoll: cpu.length === 0 ? undefined : median(cpu),
    upstreamCalls: target.countUpstream === undefined ? undefined : results.reduce((sum, r) => sum + (r.upstreamCalls ?? 0), 0),
    key: target.key,
    label: target.label,
    kind: target.kind,
    rps: median(results.map(r => r.rps)),
    p50: median(results.map(r => r.p50)),
    p99: median(results.map(r => r.p99)),
    rounds: results.map(r => ({ rps: r.rps, p50: r.p50, p99: r.p99 })),
    failures: results.reduce((sum, r) => sum + r.non2xx + r.errors + r.timeouts, 0)
  }
}

/** The peak runs: every target in every round, the order rotated each round. */
async function measurePeaks (targets: Target[]): Promise<TargetSummary[]> {
  for (const target of targets) await load(target, SETTINGS.warmupS)
  const results = new Map<string, MeasuredLoad[]>(targets.map(t => [t.key, []]))
  for (let round = 0; round < SETTINGS.rounds; round++) {
    log(`round ${round + 1} of ${SETTINGS.rounds}`)
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length] as Target
      results.get(target.key)?.push(await load(target, SETTINGS.durationS))
    }
  }
  return targets.map(target => summarise(target, results.get(target.key) ?? []))
}

/** Each gateway target at half its peak, with the floor at the same rate right after it. */
async function measureHalfLoad (gateways: Target[], floor: Target, peaks: TargetSummary[]): Promise<HalfLoad[]> {
  const runs = gateways.map(target => ({
    target,
    rate: Math.round((peaks.find(p => p.key === target.key)?.rps ?? 0) / 2),
    p50: [] as number[],
    floorP50: [] as number[],
    failures: 0
  }))
  for (let round = 0; round < SETTINGS.rounds; round++) {
    log(`half load, round ${round + 1} of ${SETTINGS.rounds}`)
    for (const run of runs) {
      const gateway = await paced(run.target, run.rate)
      const direct = await paced(floor, run.rate)
      run.p50.push(gateway.p50)
      run.floorP50.push(direct.p50)
      run.failures += gateway.failures + direct.failures
    }
  }
  return runs.map(run => ({ key: run.target.key, label: run.target.label, rate: run.rate, p50: median(run.p50), floorP50: median(run.floorP50), failures: run.failures }))
}

/** A gateway (memory store) under `--cpu-prof`, the typed and then the proxy route at full load. */
async function profileGateway (emulatorUrl: string): Promise<{ sections: Array<{ label: string, summary: ProfileSummary }>, file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'fal-gateway-profile-'))
  const gateway = await startGateway('profiled gateway', emulatorUrl, {}, ['--cpu-prof', `--cpu-prof-dir=${dir}`])
  const windows: Array<{ label: string, from: number, to: number }> = []
  try {
    const ids = await submitJobs({ url: gateway.url, appId: APP_ID, count: SETTINGS.requestIds, headers: {} })
    const common = { kind: 'gateway' as const, url: gateway.url, pid: undefined }
    const typed: Target = { ...common, key: 'typed', label: 'Typed status route', next: cycle(ids, typedPoll) }
    const proxy: Target = { ...common, key: 'proxy', label: 'Proxy route', next: cycle(ids, proxyPoll) }
    await load(typed, SETTINGS.warmupS)
    await load(proxy, SETTINGS.warmupS)
    for (const target of [typed, proxy]) {
      const from = nowUs()
      await load(target, PROFILE_DURATION_S)
      windows.push({ label: `${target.label} (\`GET ${target === typed ? `/queue/${APP_ID}/requests/{id}/status` : '/api/fal/proxy'}\`)`, from, to: nowUs() })
    }
  } finally {
    await gateway.stop()
  }
  // One file per thread (tsx's loader hooks run on their own); the main thread has thread id 0.
  const files = readdirSync(dir).filter(name => name.endsWith('.cpuprofile'))
  const file = files.find(name => /\.\d+\.0\.\d+\.cpuprofile$/.test(name)) ?? files[0]
  if (file === undefined) throw new Error(`no .cpuprofile written in ${dir}`)
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
  return {
    file: join(dir, file),
    sections: windows.map(w => ({ label: w.label, summary: summariseProfile(profile, ROOT, w.from, w.to) }))
  }
}

/**
 * perf's on-CPU samples (on-cpu-profile.ts) of the bare and Fastify forwarders and of both
 * gateway routes (memory store), ON_CPU_POLLS polls each, one after the other: what the framework
 * and then the gateway add, by area.
 */
async function onCpuBreakdown (emulatorUrl: string): Promise<OnCpuRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'fal-gateway-perf-'))
  const [gateway, bare, fastifyFloor] = await Promise.all([
    startGateway('gateway under perf', emulatorUrl, {}, perfNodeFlags(join(dir, 'gateway-v8.log'))),
    startForwarder('bare-forwarder', emulatorUrl, perfNodeFlags(join(dir, 'bare-v8.log'))),
    startForwarder('fastify-forwarder', emulatorUrl, perfNodeFlags(join(dir, 'fastify-v8.log')))
  ])
  const rows: OnCpuRow[] = []
  try {
    const ids = await submitJobs({ url: gateway.url, appId: APP_ID, count: SETTINGS.requestIds, headers: {} })
    const targets: Array<{ label: string, child: Child, poll: (id: string) => Poll }> = [
      { label: 'bare forwarder', child: bare, poll: typedPoll },
      { label: 'Fastify forwarder', child: fastifyFloor, poll: typedPoll },
      { label: 'typed status route', child: gateway, poll: typedPoll },
      { label: '/api/fal/proxy', child: gateway, poll: proxyPoll }
    ]
    for (const [i, { label, child, poll }] of targets.entries()) {
      const pid = child.process.pid as number
      const next = cycle(ids, poll)
      await runLoad({ url: child.url, connections: SETTINGS.connections, durationS: 600, amount: ON_CPU_POLLS / 4, next })
      const file = join(dir, `${i}.data`)
      const recording = recordOnCpu(pid, file)
      const cpuBefore = processCpuMs(pid)
      const result = await runLoad({ url: child.url, connections: SETTINGS.connections, durationS: 600, amount: ON_CPU_POLLS, next })
      const cpuAfter = processCpuMs(pid)
      await recording.stop()
      const cpuUsPerPoll = cpuBefore === undefined || cpuAfter === undefined ? undefined : ((cpuAfter - cpuBefore) * 1000) / result.responses
      rows.push({ label, cpuUsPerPoll, profile: summariseOnCpu(file, result.responses, ROOT) })
      log(`on-CPU: ${label.padEnd(20)} ${rows.at(-1)?.profile.usPerPoll.toFixed(0) ?? '?'} µs / poll sampled on the main thread`)
    }
  } finally {
    await Promise.all([gateway, bare, fastifyFloor].map(child => child.stop()))
    for (const child of [gateway, bare, fastifyFloor]) removePerfMap(child.process.pid as number)
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

// V8's profile timestamps are microseconds of the monotonic clock that process.hrtime reads.
function nowUs (): number {
  return Number(process.hrtime.bigint() / 1000n)
}

function packageVersion (name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

function redisVersion (): string {
  try {
    return /v=(\S+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/** Compiles the gateway of `root` (this checkout, or BENCH_BASELINE's) as `npm run build` does, into its `dist`. */
function buildGateway (root: string): void {
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' })
}

async function main (): Promise<void> {
  log('compiling the gateway as production runs it (dist/)')
  for (const root of BASELINE_ROOT === undefined ? [ROOT] : [ROOT, BASELINE_ROOT]) buildGateway(root)
  const quiet = await waitForQuiet(QUIET_THRESHOLD, QUIET_WAIT_MS, busy => {
    log(`the machine is ${(busy * 100).toFixed(0)} % busy with other work; waiting up to ${QUIET_WAIT_MS / 1000} s for it to settle`)
  })
  if (ONLY === 'profile') return await profileOnly()
  if (ONLY === 'cpu') return await cpuOnly()
  if (ONLY === 'perf') return await onCpuOnly()
  log('starting redis-server, the emulators, forwarders, gateways and the official proxy')
  redis = await startRedisServer()
  const [emulator, cachedEmulator] = await Promise.all([startEmulator(), startEmulator('emulator of the cached gateway')])
  const official = (allowlist: 'default' | 'emulator') => startChild({
    name: `official proxy (${allowlist} allowlist)`,
    script: join(ROOT, 'bench/children/official-proxy.ts'),
    env: { ...BASE_ENV, FAL_KEY, BENCH_EMULATOR_HOST: new URL(emulator.url).host, BENCH_OFFICIAL_ALLOWLIST: allowlist },
    ready: { ipc: true }
  })
  const cachedEnv = { POLL_CACHE_MAX_BYTES: String(64 * 1024 * 1024), POLL_PENDING_FRESH_MS: CACHE_KEPT_MS, POLL_COMPLETED_TTL_MS: CACHE_KEPT_MS }
  const [memory, redisBacked, memoryInfo, cached, officialReadme, officialEmulatorOnly, bare, fastifyFloor] = await Promise.all([
    startGateway('gateway (memory store)', emulator.url),
    startGateway('gateway (Redis store)', emulator.url, { REDIS_URL: redis.url }),
    startGateway('gateway (memory store, info logs)', emulator.url, { LOG_LEVEL: 'info' }),
    startGateway('gateway (memory store, cache on)', cachedEmulator.url, cachedEnv),
    official('default'),
    official('emulator'),
    startForwarder('bare-forwarder', emulator.url),
    startForwarder('fastify-forwarder', emulator.url)
  ])

  log(`submitting ${SETTINGS.requestIds} jobs through each gateway, as the benchmark client`)
  const before = BASELINE_ROOT === undefined ? undefined : await startBaseline(emulator.url, redis.url)
  const [memoryIds, redisIds, infoIds, completedIds] = await Promise.all([memory, redisBacked, memoryInfo, cached].map(gateway =>
    submitJobs({ url: gateway.url, appId: APP_ID, count: SETTINGS.requestIds, headers: {} })))
  // Jobs that stay queued while the cache is warmed with their pending status; released after.
  await fetch(`${cachedEmulator.url}/_emulator/holds`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phase: 'IN_QUEUE' }) })
  const pendingIds = await submitJobs({ url: cached.url, appId: APP_ID, count: SETTINGS.requestIds, headers: {} })
  if (memoryIds === undefined || redisIds === undefined || infoIds === undefined || completedIds === undefined) throw new Error('submits failed')

  const floor: Target = {
    key: 'floor',
    label: 'emulator directly (floor)',
    kind: 'floor',
    url: emulator.url,
    pid: emulator.process.pid,
    next: cycle(memoryIds, id => ({ path: `/${APP_ID}/requests/${id}/status?logs=0`, headers: { authorization: `Key ${FAL_KEY}` } }))
  }
  const officialTarget = (child: Child, key: string, label: string): Target => ({
    key,
    label,
    kind: 'official',
    url: child.url,
    pid: child.process.pid,
    next: cycle(memoryIds, id => ({
      path: '/api/fal/proxy',
      headers: { 'x-fal-target-url': `${emulator.url}/${APP_ID}/requests/${id}/status?logs=0` }
    }))
  })
  const bareTarget: Target = {
    key: 'bare',
    label: 'bare node:http + undici Pool forwarder (physical limit)',
    kind: 'bare',
    url: bare.url,
    pid: bare.process.pid,
    next: cycle(memoryIds, typedPoll)
  }
  const fastifyTarget: Target = {
    key: 'fastify-floor',
    label: 'Fastify + undici Pool forwarder, one route, nothing checked (framework floor)',
    kind: 'bare',
    url: fastifyFloor.url,
    pid: fastifyFloor.process.pid,
    next: cycle(memoryIds, typedPoll)
  }
  const onMemory = { kind: 'gateway' as const, url: memory.url, pid: memory.process.pid }
  const onRedis = { kind: 'gateway' as const, url: redisBacked.url, pid: redisBacked.process.pid }
  const gateways: Target[] = [
    { ...onMemory, key: 'typed-memory', label: 'gateway typed status route, memory store', next: cycle(memoryIds, typedPoll) },
    { ...onRedis, key: 'typed-redis', label: 'gateway typed status route, Redis store', next: cycle(redisIds, typedPoll) },
    { ...onMemory, key: 'proxy-memory', label: 'gateway /api/fal/proxy, memory store', next: cycle(memoryIds, proxyPoll) },
    { ...onRedis, key: 'proxy-redis', label: 'gateway /api/fal/proxy, Redis store', next: cycle(redisIds, proxyPoll) }
  ]
  const infoLogs: Target = {
    key: 'typed-memory-info',
    label: 'gateway typed status route, memory store, LOG_LEVEL=info',
    kind: 'gateway',
    url: memoryInfo.url,
    pid: memoryInfo.process.pid,
    next: cycle(infoIds, typedPoll)
  }
  const onCache = { kind: 'cached' as const, url: cached.url, pid: cached.process.pid, countUpstream: cachedEmulator.url }
  const cachedTargets: Target[] = [
    { ...onCache, key: 'cached-result-typed', label: 'gateway typed result route, completed result cached', next: cycle(completedIds, typedResult) },
    { ...onCache, key: 'cached-pending-typed', label: 'gateway typed status route, pending status fresh in cache', next: cycle(pendingIds, typedPoll) },
    { ...onCache, key: 'cached-result-proxy', label: 'gateway /api/fal/proxy result, completed result cached', next: cycle(completedIds, proxyResult) },
    { ...onCache, key: 'cached-pending-proxy', label: 'gateway /api/fal/proxy status, pending status fresh in cache', next: cycle(pendingIds, proxyPoll) }
  ]
  log('warming the cached gateway: one poll of every id')
  for (const target of cachedTargets) await warmCache(target, target.key.includes('result') ? completedIds : pendingIds)
  await fetch(`${cachedEmulator.url}/_emulator/holds`, { method: 'DELETE' })
  const targets = [
    floor,
    officialTarget(officialReadme, 'official', '@fal-ai/server-proxy (Express), README allowlist + emulator host'),
    officialTarget(officialEmulatorOnly, 'official-emulator-only', '@fal-ai/server-proxy (Express), emulator host only'),
    bareTarget,
    fastifyTarget,
    ...gateways,
    infoLogs,
    ...cachedTargets,
    ...(before?.targets ?? [])
  ]
  for (const target of targets) await checkTarget(target, emulator.url)

  log('peak load')
  const beforePeaks = cpuSnapshot()
  const peaks = await measurePeaks(targets)
  const afterPeaks = cpuSnapshot()
  const halfLoad = await measureHalfLoad(gateways, floor, peaks)
  const conditions = { quiet, peakOthers: othersShare(beforePeaks, afterPeaks), halfLoadOthers: othersShare(afterPeaks, cpuSnapshot()) }
  await Promise.all([memory, redisBacked, memoryInfo, cached, officialReadme, officialEmulatorOnly, bare, fastifyFloor, ...(before?.children ?? [])].map(child => child.stop()))
  await cachedEmulator.stop()

  log('profiling a gateway under load')
  let profile: ReportInput['profile']
  let profileFile: string | undefined
  try {
    const profiled = await profileGateway(emulator.url)
    profile = profiled.sections
    profileFile = profiled.file
  } catch (error) {
    profile = { error: (error as Error).message }
  }
  let onCpu: ReportInput['onCpu']
  if (perfWorks()) {
    log('on-CPU breakdown with perf')
    onCpu = await onCpuBreakdown(emulator.url).catch((error: unknown) => ({ error: (error as Error).message }))
  } else {
    onCpu = { error: '`perf` is not installed or may not sample here (Debian: linux-perf)' }
  }
  await emulator.stop()
  await redis.stop()

  log(`memory of ${TRACKED_REQUESTS.toLocaleString('en-US')} tracked requests`)
  const trackedScript = join(ROOT, 'bench/children/tracked-requests.ts')
  const memoryResults: TrackedMemory[] = []
  for (const mode of ['in-flight', 'completed'] as const) {
    // A child that cannot finish on a loaded machine costs this section, not the run.
    await measureTrackedMemory(trackedScript, TRACKED_REQUESTS, mode).then(result => memoryResults.push(result), (error: unknown) => {
      log(`memory of tracked requests (${mode}) not measured: ${(error as Error).message.split('\n')[0] ?? ''}`)
    })
  }

  log('upstream calls of tabs polling like subscribe')
  const upstreamCalls = renderUpstreamCalls(await measureUpstreamCalls())

  log('memory per status stream, connections to fal of 1,000 listeners on 100 jobs')
  const statusStreams = renderStatusStreams(await measureStatusStreams())

  log('submits to catalog endpoints: fal-ai/flux-general against fal-ai/layer-diffusion')
  const catalogSubmits = renderSubmitRows(await measureCatalogSubmits(QUICK ? 3 : 10))

  const report: ReportInput = {
    date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
    command: QUICK ? 'BENCH_QUICK=1 npm run bench' : 'npm run bench',
    elapsedS: (Date.now() - started) / 1000,
    machine: {
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memoryGb: totalmem() / 1024 ** 3,
      node: process.version,
      os: `${platform()} ${release()}`
    },
    versions: {
      fastify: packageVersion('fastify'),
      undici: packageVersion('undici'),
      ioredis: packageVersion('ioredis'),
      '@fastify/rate-limit': packageVersion('@fastify/rate-limit'),
      '@fal-ai/server-proxy': packageVersion('@fal-ai/server-proxy'),
      express: packageVersion('express'),
      autocannon: packageVersion('autocannon'),
      'redis-server': redisVersion()
    },
    settings: SETTINGS,
    conditions,
    targets: peaks,
    halfLoad,
    memory: memoryResults,
    profile,
    onCpu,
    chartFile: CHART_FILE,
    upstreamCalls,
    catalogSubmits,
    statusStreams,
    findings: readFindings(),
    baseline: BASELINE_ROOT === undefined ? undefined : { description: baselineDescription(BASELINE_ROOT) }
  }
  const chartRows = peaks.map(p => ({ label: p.label.replace('gateway ', ''), kind: p.kind, rps: p.rps, p99: p.p99 }))
  writeFileSync(join(ROOT, CHART_FILE), renderChart(chartRows, `Status polls, ${SETTINGS.connections} connections, loopback, ${report.machine.cores} cores (medians of ${SETTINGS.rounds})`))
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), renderReport(report))
  log(`wrote BENCHMARKS.md and ${CHART_FILE}${profileFile === undefined ? '' : `; CPU profile: ${profileFile}`}`)
}

/** One of the reference forwarders of bench/children (bare-forwarder, fastify-forwarder), in front of the emulator. */
async function startForwarder (name: 'bare-forwarder' | 'fastify-forwarder', emulatorUrl: string, nodeArgs: string[] = []): Promise<Child> {
  return await startChild({ name, script: join(ROOT, `bench/children/${name}.ts`), nodeArgs, env: { ...BASE_ENV, FAL_KEY, BENCH_EMULATOR_URL: emulatorUrl }, ready: { ipc: true } })
}

/** An emulator in a process of its own: the floor and upstream of every forwarder, or the cached gateway's alone. */
async function startEmulator (name = 'emulator'): Promise<Child> {
  return await startChild({ name, script: join(ROOT, 'bench/children/emulator.ts'), env: { ...BASE_ENV, FAL_KEY }, ready: { ipc: true } })
}

/** BENCH_ONLY=profile: the profiling run alone, summarised on stderr. */
async function profileOnly (): Promise<void> {
  const emulator = await startEmulator()
  const { sections, file } = await profileGateway(emulator.url)
  await emulator.stop()
  for (const { label, summary } of sections) {
    log(`${label}: ${summary.totalMs.toFixed(0)} ms sampled, ${(summary.idleShare * 100).toFixed(0)} % idle`)
    for (const entry of [...summary.areas.slice(0, 12), ...summary.functions.slice(0, 25)]) {
      process.stderr.write(`  ${entry.ms.toFixed(0).padStart(6)} ms ${(entry.share * 100).toFixed(1).padStart(5)} %  ${entry.name}  ${entry.where}\n`)
    }
  }
  log(`CPU profile: ${file}`)
}

/** BENCH_ONLY=perf: the on-CPU breakdown alone, on stderr. */
async function onCpuOnly (): Promise<void> {
  if (!perfWorks()) throw new Error('perf is not installed or may not sample here (Debian: linux-perf)')
  const emulator = await startEmulator()
  try {
    const rows = await onCpuBreakdown(emulator.url)
    const areas = [...new Set(rows.flatMap(row => row.profile.areas.map(a => a.area)))]
    for (const area of areas) {
      process.stderr.write(`${rows.map(row => (row.profile.areas.find(a => a.area === area)?.usPerPoll ?? 0).toFixed(2).padStart(8)).join('')}  ${area}\n`)
    }
  } finally {
    await emulator.stop()
  }
}

/** BENCH_ONLY=cpu: CPU µs per poll over CPU_POLLS polls per target and round, rounds interleaved. */
async function cpuOnly (): Promise<void> {
  redis = await startRedisServer()
  const emulator = await startEmulator()
  const [memory, redisBacked, bare, fastifyFloor] = await Promise.all([
    startGateway('gateway (memory store)', emulator.url),
    startGateway('gateway (Redis store)', emulator.url, { REDIS_URL: redis.url }),
    startForwarder('bare-forwarder', emulator.url),
    startForwarder('fastify-forwarder', emulator.url)
  ])
  const [ids, redisIds] = await Promise.all([memory, redisBacked].map(gateway => submitJobs({ url: gateway.url, appId: APP_ID, count: SETTINGS.requestIds, headers: {} })))
  if (ids === undefined || redisIds === undefined) throw new Error('submits failed')
  const targets: Target[] = [
    { key: 'floor', label: 'emulator directly (floor)', kind: 'floor', url: emulator.url, pid: emulator.process.pid, next: cycle(ids, id => ({ path: `/${APP_ID}/requests/${id}/status?logs=0`, headers: { authorization: `Key ${FAL_KEY}` } })) },
    { key: 'bare', label: 'bare forwarder', kind: 'bare', url: bare.url, pid: bare.process.pid, next: cycle(ids, typedPoll) },
    { key: 'fastify-floor', label: 'Fastify forwarder (framework floor)', kind: 'bare', url: fastifyFloor.url, pid: fastifyFloor.process.pid, next: cycle(ids, typedPoll) },
    { key: 'typed-memory', label: 'typed status route, memory store', kind: 'gateway', url: memory.url, pid: memory.process.pid, next: cycle(ids, typedPoll) },
    { key: 'proxy-memory', label: 'proxy route, memory store', kind: 'gateway', url: memory.url, pid: memory.process.pid, next: cycle(ids, proxyPoll) },
    { key: 'typed-redis', label: 'typed status route, Redis store', kind: 'gateway', url: redisBacked.url, pid: redisBacked.process.pid, next: cycle(redisIds, typedPoll) },
    { key: 'proxy-redis', label: 'proxy route, Redis store', kind: 'gateway', url: redisBacked.url, pid: redisBacked.process.pid, next: cycle(redisIds, proxyPoll) }
  ]
  const before = BASELINE_ROOT === undefined ? undefined : await startBaseline(emulator.url, redis.url)
  targets.push(...(before?.targets ?? []))
  const cpu = new Map<string, number[]>(targets.map(t => [t.key, []]))
  const measure = async (target: Target, amount: number): Promise<number | undefined> => {
    const before = target.pid === undefined ? undefined : processCpuMs(target.pid)
    const result = await runLoad({ url: target.url, connections: SETTINGS.connections, durationS: 600, amount, next: target.next })
    const after = target.pid === undefined ? undefined : processCpuMs(target.pid)
    return before === undefined || after === undefined || result.responses === 0 ? undefined : ((after - before) * 1000) / result.responses
  }
  for (const target of targets) await measure(target, CPU_POLLS / 4)
  for (let round = 0; round < SETTINGS.rounds; round++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[(i + round) % targets.length] as Target
      const us = await measure(target, CPU_POLLS)
      if (us !== undefined) cpu.get(target.key)?.push(us)
      log(`${target.label.padEnd(58)} ${us === undefined ? '?' : us.toFixed(0).padStart(5)} µs / poll`)
    }
  }
  await Promise.all([memory, redisBacked, bare, fastifyFloor, emulator, ...(before?.children ?? [])].map(child => child.stop()))
  for (const target of targets) {
    const figures = cpu.get(target.key) ?? []
    log(`median ${target.label.padEnd(58)} ${figures.length === 0 ? '?' : median(figures).toFixed(0).padStart(5)} µs / poll  (${figures.map(n => n.toFixed(0)).join(', ')})`)
  }
}

/** The earlier commit's gateway, both stores, as rows keyed `<key>-before`. */
async function startBaseline (emulatorUrl: string, redisUrl: string): Promise<{ children: Child[], targets: Target[] }> {
  const root = BASELINE_ROOT as string
  const [memory, redisBacked] = await Promise.all([
    startGateway('earlier gateway (memory store)', emulatorUrl, {}, [], root),
    startGateway('earlier gateway (Redis store)', emulatorUrl, { REDIS_URL: redisUrl }, [], root)
  ])
  const [memoryIds, redisIds] = await Promise.all([memory, redisBacked].map(gateway => submitJobs({ url: gateway.url, appId: APP_ID, count: SETTINGS.requestIds, headers: {} })))
  if (memoryIds === undefined || redisIds === undefined) throw new Error('submits failed')
  const row = (child: Child, ids: string[], key: string, label: string, poll: (id: string) => Poll): Target =>
    ({ key: `${key}-before`, label: `before: ${label}`, kind: 'gateway', url: child.url, pid: child.process.pid, next: cycle(ids, poll) })
  return {
    children: [memory, redisBacked],
    targets: [
      row(memory, memoryIds, 'typed-memory', 'gateway typed status route, memory store', typedPoll),
      row(redisBacked, redisIds, 'typed-redis', 'gateway typed status route, Redis store', typedPoll),
      row(memory, memoryIds, 'proxy-memory', 'gateway /api/fal/proxy, memory store', proxyPoll),
      row(redisBacked, redisIds, 'proxy-redis', 'gateway /api/fal/proxy, Redis store', proxyPoll)
    ]
  }
}

/** Which commit the baseline checkout holds, as its package and the commit given when it was made. */
function baselineDescription (root: string): string {
  const commitFile = join(root, '.commit')
  return existsSync(commitFile) ? `commit ${readFileSync(commitFile, 'utf8').trim()}` : root
}

/** Hand-written reading of the figures (bench/findings.md), carried into the report when present. */
function readFindings (): string | undefined {
  const file = join(ROOT, 'bench/findings.md')
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined
}

try {
  await main()
} catch (error) {
  log(`failed: ${(error as Error).stack ?? String(error)}`)
  teardown()
  process.exitCode = 1
}
teardown()
