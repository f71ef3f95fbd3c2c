import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { sourceOf } from './profile.js'

/**
 * Where a poll's CPU time goes, from `perf record -e cpu-clock`: the kernel samples a process
 * only while it runs on a core. V8's own `--cpu-prof` samples on a wall clock, so a thread waiting
 * for a core after a syscall is counted inside that syscall: on 2 busy cores it put a quarter of
 * the gateway's time in socket writes that perf finds are a tenth of its CPU. Each sample is
 * charged to the innermost JavaScript frame on its stack (so V8's builtins, the garbage collector
 * and the kernel work a call causes count where the call was made), then summed by area.
 */

/**
 * Node flags that let perf name JIT-compiled and interpreted JavaScript frames. They also turn on
 * V8's log, which would land in the working directory: it goes to `logFile` instead.
 */
export function perfNodeFlags (logFile: string): string[] {
  return ['--perf-basic-prof', '--interpreted-frames-native-stack', '--no-logfile-per-isolate', `--logfile=${logFile}`]
}
const FREQUENCY_HZ = 2999

export interface OnCpuArea {
  area: string
  usPerPoll: number
}

export interface OnCpuProfile {
  /** CPU time of the main thread per poll, as sampled. */
  usPerPoll: number
  areas: OnCpuArea[]
}

/** perf can sample a process here (the linux-perf package, and a kernel that lets it). */
export function perfWorks (): boolean {
  const probe = spawnSync('perf', ['record', '-q', '-e', 'cpu-clock', '-o', '/dev/null', 'true'], { stdio: 'ignore' })
  return probe.status === 0
}

/** Starts sampling `pid` with call stacks; `stop` ends the recording and waits for the file. */
export function recordOnCpu (pid: number, file: string): { stop: () => Promise<void> } {
  const perf = spawn('perf', ['record', '-q', '-g', '-e', 'cpu-clock', '-F', String(FREQUENCY_HZ), '-o', file, '-p', String(pid)], { stdio: 'ignore' })
  const exited = new Promise<void>(resolve => { perf.once('exit', () => { resolve() }) })
  return {
    stop: async () => {
      perf.kill('SIGINT')
      await exited
    }
  }
}

/** The recording of `file`, per poll over `polls`, by the area of each sample's innermost JavaScript frame. */
export function summariseOnCpu (file: string, polls: number, root: string): OnCpuProfile {
  const script = execFileSync('perf', ['script', '-i', file], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] })
  const usPerSample = 1e6 / FREQUENCY_HZ / polls
  const areas = new Map<string, number>()
  let samples = 0
  for (const sample of script.split('\n\n')) {
    const lines = sample.split('\n')
    // The main thread only: the one that answers polls (GC helpers and libuv's pool run beside it).
    if (lines.find(line => line.includes('cpu-clock'))?.startsWith('MainThread') !== true) continue
    const frames = lines.filter(line => /^\s+[0-9a-f]+ /.test(line)).map(line => line.trim().replace(/^[0-9a-f]+ /, ''))
    if (frames.length === 0) continue
    samples++
    const js = frames.find(frame => frame.startsWith('JS:'))
    const area = js === undefined ? (frames[0]?.includes('[kernel') === true ? 'kernel, outside JavaScript' : 'native, outside JavaScript') : areaOf(js, root)
    areas.set(area, (areas.get(area) ?? 0) + 1)
  }
  return {
    usPerPoll: samples * usPerSample,
    areas: [...areas].map(([area, count]) => ({ area, usPerPoll: count * usPerSample })).sort((a, b) => b.usPerPoll - a.usPerPoll)
  }
}

/** perf's map file of a process run with perfNodeFlags, left in /tmp by node. */
export function removePerfMap (pid: number): void {
  rmSync(`/tmp/perf-${pid}.map`, { force: true })
}

/** A package, a project directory, or one of node's own modules. */
function areaOf (frame: string, root: string): string {
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(frame)
  if (modules !== null) return modules[1] as string
  const project = frame.indexOf(root)
  if (project >= 0) {
    const path = sourceOf(frame.slice(project + root.length).replace(/[:\s].*$/, ''))
    return /^(src\/[^/]+)\//.exec(path)?.[1] ?? path
  }
  const internal = /node:([\w/]+)/.exec(frame)
  if (internal !== null) return `node:${internal[1] as string}`
  return 'V8 (wasm, builtins)'
}
