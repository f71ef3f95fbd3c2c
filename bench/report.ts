import type { Quiet } from './machine.js'
import type { TrackedMemory } from './memory.js'
import type { ProfileSummary, SelfTime } from './profile.js'
import type { OnCpuProfile } from './on-cpu-profile.js'

export interface TargetSummary {
  key: string
  label: string
  kind: 'floor' | 'official' | 'gateway' | 'bare' | 'cached'
  /** Medians over the rounds. */
  rps: number
  p50: number
  p99: number
  /**
   * CPU time the forwarding process (the emulator, for the floor) spent per poll, median over the
   * rounds: what the target costs, independent of what else the machine was doing.
   */
  cpuUsPerPoll: number | undefined
  /** Cached rows: the emulator's calls during their loads, summed over the rounds (the goal is none). */
  upstreamCalls?: number
  /** Per-round figures, for the spread. */
  rounds: Array<{ rps: number, p50: number, p99: number }>
  /** Summed over every round: answers that were not 2xx, socket errors and timeouts. */
  failures: number
}

export interface HalfLoad {
  key: string
  label: string
  rate: number
  p50: number
  floorP50: number
  /** Polls of either run that failed, summed over the rounds. */
  failures: number
}

/** One target of the on-CPU breakdown: perf's samples by area, and the process's CPU per poll from /proc. */
export interface OnCpuRow {
  label: string
  cpuUsPerPoll: number | undefined
  profile: OnCpuProfile
}

export interface ReportInput {
  date: string
  command: string
  elapsedS: number
  machine: { cpu: string, cores: number, memoryGb: number, node: string, os: string }
  versions: Record<string, string>
  settings: { connections: number, durationS: number, rounds: number, warmupS: number, requestIds: number, halfLoadDurationS: number, logLevel: string }
  /** How much of the CPU other processes took: before the run, during the peak and half-load runs. */
  conditions: { quiet: Quiet, peakOthers: number | undefined, halfLoadOthers: number | undefined }
  targets: TargetSummary[]
  halfLoad: HalfLoad[]
  memory: TrackedMemory[]
  profile: Array<{ label: string, summary: ProfileSummary }> | { error: string }
  /** perf's on-CPU breakdown of the bare forwarder and both routes (on-cpu-profile.ts). */
  onCpu: OnCpuRow[] | { error: string }
  chartFile: string
  /** The upstream-calls section, rendered. */
  upstreamCalls: string
  /** The status-streams section, rendered. */
  statusStreams: string
  /** Submits to catalog endpoints, the largest fal document against a small one (catalog-submit.ts). */
  catalogSubmits: string
  /** Hand-written reading of the figures, placed after the targets. */
  findings?: string
  /** Set when an earlier commit's gateway ran in the same run (rows keyed `<key>-before`). */
  baseline?: { description: string }
}

const share = (n: number | undefined) => n === undefined ? 'unknown' : `${(n * 100).toFixed(0)} %`
const busy = (input: ReportInput) => [input.conditions.quiet.busy, input.conditions.peakOthers, input.conditions.halfLoadOthers].some(n => n !== undefined && n > 0.1)
const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => n.toFixed(2)
const times = (n: number) => `${n.toFixed(2)}×`
const percent = (n: number) => `${(n * 100).toFixed(0)} %`

interface TargetCheck {
  goal: string
  measured: string
  met: boolean
  margin: string
}

/** "met by 12 %" / "missed by 30 %" for a figure that must be at least (or at most) the goal. */
function margin (value: number, goal: number, atLeast: boolean): string {
  const ratio = atLeast ? value / goal : goal / value
  return ratio >= 1 ? `met with ${percent(ratio - 1)} to spare` : `missed by ${percent(1 - ratio)}`
}

/** Issue 11's targets, all on CPU time per poll (the figure the machine's noise moves least). */
function cpuChecks (input: ReportInput): TargetCheck[] {
  const byKey = new Map(input.targets.map(t => [t.key, t]))
  const cpu = (key: string) => byKey.get(key)?.cpuUsPerPoll
  const result: TargetCheck[] = []
  const atMost = (goal: string, key: string, of: string, limit: number) => {
    const value = cpu(key)
    const base = cpu(of)
    if (value === undefined || base === undefined) return
    const ratio = value / base
    result.push({ goal, measured: `${times(ratio)} (${int(value)} vs ${int(base)} µs)`, met: ratio <= limit, margin: margin(ratio, limit, false) })
  }
  for (const key of ['typed-memory', 'proxy-memory', 'typed-redis', 'proxy-redis']) {
    atMost(`${byKey.get(key)?.label ?? key}: CPU per poll ≤ 1.15× the bare forwarder's`, key, 'bare', 1.15)
  }
  atMost('typed route: the Redis store adds ≤ 20 % CPU per poll over the memory store', 'typed-redis', 'typed-memory', 1.2)
  atMost('proxy route: the Redis store adds ≤ 20 % CPU per poll over the memory store', 'proxy-redis', 'proxy-memory', 1.2)
  for (const official of ['official', 'official-emulator-only']) {
    for (const key of ['typed-memory', 'proxy-memory']) {
      const value = cpu(key)
      const base = cpu(official)
      if (value === undefined || base === undefined) continue
      const ratio = base / value
      result.push({
        goal: `${byKey.get(key)?.label ?? key}: ≥ 5× less CPU per poll than ${byKey.get(official)?.label ?? official}${official === 'official' ? '' : ' (reported; the target is against the README set-up)'}`,
        measured: `${times(ratio)} (${int(base)} vs ${int(value)} µs)`,
        met: ratio >= 5,
        margin: margin(ratio, 5, true)
      })
    }
  }
  for (const target of input.targets.filter(t => t.kind === 'cached')) {
    atMost(`${target.label}: CPU per poll ≤ 1.2× the emulator's own for a direct poll`, target.key, 'floor', 1.2)
    result.push({
      goal: `${target.label}: no call to fal`,
      measured: `${int(target.upstreamCalls ?? 0)} calls`,
      met: target.upstreamCalls === 0,
      margin: target.upstreamCalls === 0 ? 'met' : `missed by ${int(target.upstreamCalls ?? 0)} calls`
    })
  }
  for (const half of input.halfLoad) {
    const added = half.p50 - half.floorP50
    result.push({
      goal: `${half.label}: added p50 over the floor ≤ 0.5 ms at half its peak (${int(half.rate)} req/s)`,
      measured: `${ms(added)} ms (${ms(half.p50)} vs ${ms(half.floorP50)} ms)`,
      met: added <= 0.5,
      margin: margin(Math.max(added, 1e-3), 0.5, false)
    })
  }
  return result
}

/** The same targets in an earlier run and in this one, CPU per poll first. */
function beforeAfter (input: ReportInput): string[] {
  const baseline = input.baseline
  if (baseline === undefined) return []
  const before = new Map(input.targets.map(t => [t.key, t]))
  const cpu = (n: number | undefined) => n === undefined ? '–' : int(n)
  const change = (after: number | undefined, was: number | undefined) => after === undefined || was === undefined ? '–' : `${after <= was ? '−' : '+'}${percent(Math.abs(after / was - 1))}`
  return [
    '## Before and after',
    '',
    `Before: the gateway of ${baseline.description} (\`BENCH_BASELINE\`), started and loaded in this same run, interleaved with the others, so the machine's noise hits both alike; after: this tree.`,
    '',
    '| target | CPU µs / poll before | after | change | req/s before | after |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...input.targets.filter(t => before.has(`${t.key}-before`)).map(t => {
      const was = before.get(`${t.key}-before`)
      return `| ${t.label} | ${cpu(was?.cpuUsPerPoll)} | ${cpu(t.cpuUsPerPoll)} | ${change(t.cpuUsPerPoll, was?.cpuUsPerPoll)} | ${was === undefined ? '–' : int(was.rps)} | ${int(t.rps)} |`
    }),
    ''
  ]
}

function checks (input: ReportInput): TargetCheck[] {
  const official = input.targets.find(t => t.key === 'official')
  const byKey = new Map(input.targets.map(t => [t.key, t]))
  const result: TargetCheck[] = []
  if (official !== undefined) {
    for (const [key, goal] of [['typed-memory', 3], ['typed-redis', 3], ['proxy-memory', 2.5], ['proxy-redis', 2.5]] as const) {
      const target = byKey.get(key)
      if (target === undefined) continue
      const ratio = target.rps / official.rps
      result.push({
        goal: `${target.label}: ≥ ${goal}× the official proxy's req/s`,
        measured: `${times(ratio)} (${int(target.rps)} vs ${int(official.rps)} req/s)`,
        met: ratio >= goal,
        margin: margin(ratio, goal, true)
      })
    }
    for (const key of ['typed-memory', 'typed-redis'] as const) {
      const target = byKey.get(key)
      if (target === undefined) continue
      const ratio = target.p99 / official.p99
      result.push({
        goal: `${target.label}: p99 ≤ ⅓ of the official proxy's`,
        measured: `${times(ratio)} (${ms(target.p99)} vs ${ms(official.p99)} ms)`,
        met: ratio <= 1 / 3,
        margin: margin(ratio, 1 / 3, false)
      })
    }
  }
  for (const half of input.halfLoad) {
    const added = half.p50 - half.floorP50
    result.push({
      goal: `${half.label}: added p50 over the floor ≤ 1 ms at half its peak (${int(half.rate)} req/s)`,
      measured: `${ms(added)} ms (${ms(half.p50)} vs ${ms(half.floorP50)} ms)`,
      met: added <= 1,
      margin: margin(Math.max(added, 1e-3), 1, false)
    })
  }
  for (const memory of input.memory) {
    result.push({
      goal: `Memory store, ${int(memory.count)} tracked requests (${memory.mode}): ≤ 300 bytes each`,
      measured: `${int(memory.rssBytesPerRequest)} B RSS (${int(memory.heapBytesPerRequest)} B of JS heap)`,
      met: memory.rssBytesPerRequest <= 300,
      margin: margin(memory.rssBytesPerRequest, 300, false)
    })
  }
  return result
}

function selfTimeTable (entries: SelfTime[], withWhere: boolean, column = 'self time'): string {
  const header = withWhere ? `| ${column} | share | function | where |\n| ---: | ---: | --- | --- |` : `| ${column} | share | area |\n| ---: | ---: | --- |`
  const rows = entries.map(entry => withWhere
    ? `| ${int(entry.ms)} ms | ${percent(entry.share)} | \`${entry.name}\` | ${entry.where === '' ? '(native)' : `\`${entry.where}\``} |`
    : `| ${int(entry.ms)} ms | ${percent(entry.share)} | \`${entry.name}\` |`)
  return [header, ...rows].join('\n')
}

/** BENCHMARKS.md, from one run's figures. */
export function renderReport (input: ReportInput): string {
  const official = input.targets.find(t => t.key === 'official')
  const floor = input.targets.find(t => t.kind === 'floor')
  const bare = input.targets.find(t => t.kind === 'bare')
  const s = input.settings
  const lines: string[] = []
  const ratio = (value: number, of: number | undefined) => of === undefined ? '–' : times(value / of)

  lines.push(
    '# Benchmarks',
    '',
    `Written by \`${input.command}\` on ${input.date} (${Math.round(input.elapsedS)} s). Every figure below comes from that one run; run it again to refresh this file.`,
    '',
    '## Machine',
    '',
    `- CPU: ${input.machine.cpu}, ${input.machine.cores} cores (shared by the load generator, the forwarder under test, the emulator and Redis)`,
    `- Memory: ${input.machine.memoryGb.toFixed(1)} GB`,
    `- OS: ${input.machine.os}`,
    `- Node.js ${input.machine.node}`,
    `- Packages: ${Object.entries(input.versions).map(([name, version]) => `${name} ${version}`).join(', ')}`,
    `- Other processes' share of the CPU: ${share(input.conditions.quiet.busy)} just before the run${input.conditions.quiet.waitedS >= 2 ? ` (after waiting ${Math.round(input.conditions.quiet.waitedS)} s for the machine to settle)` : ''}, ${share(input.conditions.peakOthers)} during the peak runs, ${share(input.conditions.halfLoadOthers)} during the half-load runs; load average ${input.conditions.quiet.loadAverage.toFixed(2)} at the start`,
    ...(busy(input) ? ['', '> **The machine was not quiet**: other processes took more than 10 % of the CPU while this ran, so every figure below is lower (and latencies higher) than the machine can do; the ratios between targets, measured interleaved, suffer less.'] : []),
    '',
    '## What runs',
    '',
    'Each on loopback and in its own process, so none shares an event loop with another:',
    '',
    '- **floor**: the project\'s fal emulator (`src/emulator`), no artificial delay, polled directly;',
    '- **fal-gateway** as production starts it (`dist/server.js`, compiled at the start of the run), once with the memory store and once with a private `redis-server` (`REDIS_URL`): validation, per-client rate limits, job slots and request ownership all on. Limits are raised through the environment so the benchmark measures them rather than hits them; request logging is off (`LOG_LEVEL=' + s.logLevel + '`) except in the row that says otherwise;',
    '- **bare forwarder** (`bench/children/bare-forwarder.ts`): `node:http` and one undici `Pool`, checking nothing, piping fal\'s body back: the physical limit of a forwarder on this machine;',
    '- **Fastify forwarder** (`bench/children/fastify-forwarder.ts`): Fastify with one route in front of the same `Pool`, checking nothing, reading fal\'s answer whole and sending it on (as the gateway must): the framework floor, which separates what Fastify costs from what the gateway\'s own checks cost;',
    '- **@fal-ai/server-proxy** (fal\'s official proxy), its Express adapter set up as its README says, `allowedUrlPatterns` its default list plus the emulator\'s host (what an app following the README has), and once with the emulator\'s host alone (its cost depends on the list);',
    '- **cached rows**: one more gateway with the poll cache on and kept longer than the run (`POLL_PENDING_FRESH_MS`, `POLL_COMPLETED_TTL_MS`): result polls of completed jobs, and status polls of jobs the emulator holds queued, each cache warmed by one poll of every id first. The emulator\'s calls during their loads are counted.',
    '',
    `The benchmark client first submits ${int(s.requestIds)} jobs through each gateway it measures (so it owns them), then every load polls the status of those ${int(s.requestIds)} request ids in turn: \`GET /queue/{appId}/requests/{id}/status\` on the typed route, \`GET /api/fal/proxy\` with \`x-fal-target-url: https://queue.fal.run/{appId}/requests/{id}/status?logs=0\` on the proxy routes (the official proxy gets the emulator's URL instead). The jobs have completed, so every answer is a 200 with \`"status": "COMPLETED"\`. Except in the cached rows, caching is off (\`POLL_CACHE_MAX_BYTES=0\`, \`POLL_PENDING_FRESH_MS=0\`, \`POLL_COMPLETED_TTL_MS=0\`), and the run checks it: before any load, two polls of one id through each target must reach the emulator twice.`,
    '',
    `autocannon, ${s.connections} connections, ${s.durationS} s per run after a ${s.warmupS} s warm-up per target; ${s.rounds} rounds with the targets interleaved (the order rotates each round); figures are medians over the rounds. Latencies are taken from every response's own timing (sub-millisecond), not from autocannon's whole-millisecond histogram.`,
    '',
    '## Results',
    '',
    '| target | CPU µs / poll | vs bare forwarder | req/s | p50 ms | p99 ms | req/s vs official | req/s vs floor | calls to fal | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...input.targets.map(t =>
      `| ${t.label} | ${t.cpuUsPerPoll === undefined ? '–' : int(t.cpuUsPerPoll)} | ${t.cpuUsPerPoll === undefined ? '–' : ratio(t.cpuUsPerPoll, bare?.cpuUsPerPoll)} | ${int(t.rps)} | ${ms(t.p50)} | ${ms(t.p99)} | ${ratio(t.rps, official?.rps)} | ${ratio(t.rps, floor?.rps)} | ${t.upstreamCalls === undefined ? '–' : int(t.upstreamCalls)} | ${t.failures} |`),
    '',
    '"CPU µs / poll" is the CPU time (user + system, from `/proc`) of the one process that answers the poll: the emulator for the floor, the forwarder for the others (their upstream call to the emulator is not included; for the Redis rows neither is redis-server\'s). Unlike req/s it hardly depends on what else the machine is doing, so it is the figure to compare when the run was not alone.',
    '',
    `![requests per second and p99 latency per target](${input.chartFile})`,
    '',
    '<details><summary>Per-round figures (req/s, p50, p99)</summary>',
    '',
    '| target | ' + Array.from({ length: s.rounds }, (_, i) => `round ${i + 1}`).join(' | ') + ' |',
    '| --- |' + ' --- |'.repeat(s.rounds),
    ...input.targets.map(t => `| ${t.label} | ${t.rounds.map(r => `${int(r.rps)} · ${ms(r.p50)} · ${ms(r.p99)}`).join(' | ')} |`),
    '',
    '</details>',
    '',
    '## Latency at half load',
    '',
    `Each gateway target again at a steady rate of half its median peak, with the floor at the same rate right after it; ${s.halfLoadDurationS} s per run, ${s.rounds} rounds, medians; added p50 is the gateway's p50 minus the floor's. The requests are started on an even schedule (an open loop over an undici Pool of ${s.connections} connections, \`bench/paced.ts\`) rather than with autocannon's \`overallRate\`, which sends each connection's quota for a second back to back at the start of it: that measures bursts at full speed, not half the load.`,
    '',
    '| target | rate | p50 ms | floor p50 ms | added p50 ms | failed |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...input.halfLoad.map(h => `| ${h.label} | ${int(h.rate)} | ${ms(h.p50)} | ${ms(h.floorP50)} | ${ms(h.p50 - h.floorP50)} | ${h.failures} |`),
    '',
    '## Memory per tracked request',
    '',
    'The memory LimitStore (`createMemoryLimitStore`) in a fresh process run with `--expose-gc`: 1,000 clients, 1,000,000 request ids recorded with `confirmJob` (ids parsed from JSON, as the gateway gets them from fal). Resident set size after minus before, divided by the count. "in-flight" keeps each job counting against its client; "completed" releases it (`releaseJob`) as the gateway does once fal reports it done, leaving the ownership record.',
    '',
    '| state | RSS bytes / request | JS heap bytes / request |',
    '| --- | ---: | ---: |',
    ...input.memory.map(m => `| ${m.mode} | ${int(m.rssBytesPerRequest)} | ${int(m.heapBytesPerRequest)} |`),
    '',
    input.upstreamCalls,
    '## Submits validated against fal\'s documents (issue 12)',
    '',
    input.catalogSubmits,
    '',
    input.statusStreams,
    '## Targets (issue 11): CPU per poll',
    '',
    '| target | measured | | |',
    '| --- | --- | --- | --- |',
    ...cpuChecks(input).map(c => `| ${c.goal} | ${c.measured} | ${c.met ? 'met' : '**missed**'} | ${c.margin} |`),
    '',
    ...beforeAfter(input),
    '## Targets (issue 6): req/s and latency',
    '',
    '| target | measured | | |',
    '| --- | --- | --- | --- |',
    ...checks(input).map(c => `| ${c.goal} | ${c.measured} | ${c.met ? 'met' : '**missed**'} | ${c.margin} |`),
    '',
    ...(input.findings === undefined ? [] : [input.findings.trim(), '']),
    ...onCpuSection(input.onCpu, s.connections),
    '## Profile',
    ''
  )

  if ('error' in input.profile) {
    lines.push(`The profiling run failed: ${input.profile.error}`, '')
  } else {
    lines.push(
      `A separate gateway process (memory store) run with \`--cpu-prof\`, loaded like the table above (${s.connections} connections); only the samples taken while the load ran are counted. Self time is time spent in a function itself, not in what it calls; shares are of the time the process was busy (idle excluded).`,
      ''
    )
    for (const { label, summary } of input.profile) {
      lines.push(
        `### ${label}`,
        '',
        `${int(summary.totalMs)} ms sampled, ${percent(summary.idleShare)} idle.`,
        '',
        'By area (package, project directory, node internals, V8):',
        '',
        selfTimeTable(summary.areas.slice(0, 12), false),
        '',
        'On the stack (inclusive: a package or project file counts with everything it calls; shares overlap):',
        '',
        selfTimeTable(summary.onStack.slice(0, 20), false, 'on the stack'),
        '',
        'Top functions:',
        '',
        selfTimeTable(summary.functions, true),
        ''
      )
    }
  }

  lines.push(
    '## Reproduce',
    '',
    '```sh',
    'npm ci',
    input.command,
    '```',
    '',
    'It needs `redis-server` on the PATH (a private one is started on a free port and stopped after). It writes this file and `' + input.chartFile + '`; the raw `.cpuprofile` stays in a temporary directory (printed at the end) for Chrome DevTools.',
    ''
  )
  return lines.join('\n')
}

/** Where the CPU of a poll goes, by area, with perf's on-CPU samples: the bare forwarder beside both routes. */
function onCpuSection (onCpu: ReportInput['onCpu'], connections: number): string[] {
  const lines = ['## Where a poll\'s CPU goes (perf, on-CPU samples)', '']
  if ('error' in onCpu) return [...lines, `Not measured: ${onCpu.error}.`, '']
  const areas = [...new Set(onCpu.flatMap(row => row.profile.areas.map(a => a.area)))]
  const usOf = (row: OnCpuRow, area: string): number => row.profile.areas.find(a => a.area === area)?.usPerPoll ?? 0
  const gateway = onCpu.find(row => row.label === 'typed status route')
  const ranked = gateway === undefined ? areas : areas.sort((a, b) => usOf(gateway, b) - usOf(gateway, a))
  const shown = ranked.filter(area => onCpu.some(row => usOf(row, area) >= 0.3))
  const fixed = (n: number | undefined): string => n === undefined ? '?' : n.toFixed(1)
  return [
    ...lines,
    `Each target alone, ${connections} connections, its polls sampled by \`perf record -e cpu-clock\` (the kernel samples a process only while it runs, so waiting for a core counts nowhere; V8's \`--cpu-prof\` below samples on the wall clock and counts that wait inside the call it follows). Each sample is charged to the innermost JavaScript frame on its stack, so V8's builtins, garbage collection and the kernel work a call causes count where the call was made. Figures are µs of the main thread per poll; areas under 0.3 µs everywhere are left out.`,
    '',
    `| area | ${onCpu.map(row => row.label).join(' | ')} |`,
    `| --- | ${onCpu.map(() => '---:').join(' | ')} |`,
    ...shown.map(area => `| \`${area}\` | ${onCpu.map(row => fixed(usOf(row, area))).join(' | ')} |`),
    `| **sampled, main thread** | ${onCpu.map(row => `**${fixed(row.profile.usPerPoll)}**`).join(' | ')} |`,
    `| whole process, from /proc | ${onCpu.map(row => fixed(row.cpuUsPerPoll)).join(' | ')} |`,
    ''
  ]
}
