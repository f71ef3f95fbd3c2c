import { cpus, loadavg } from 'node:os'
import { readdirSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

/** Share of all cores' time spent busy over `sampleMs`, by every process on the machine. */
export async function cpuBusy (sampleMs = 1000): Promise<number> {
  const totals = () => cpus().reduce((sum, cpu) => {
    const { user, nice, sys, irq, idle } = cpu.times
    return { busy: sum.busy + user + nice + sys + irq, all: sum.all + user + nice + sys + irq + idle }
  }, { busy: 0, all: 0 })
  const before = totals()
  await sleep(sampleMs)
  const after = totals()
  const all = after.all - before.all
  return all > 0 ? (after.busy - before.busy) / all : 0
}

export interface Quiet {
  /** Busy share of the last sample before the run went ahead. */
  busy: number
  waitedS: number
  loadAverage: number
}

/**
 * Waits (up to `maxWaitMs`) for the machine to be nearly idle before measuring: on 2 cores another
 * process's work is taken straight out of the figures. Goes ahead either way; the caller reports it.
 */
export async function waitForQuiet (threshold: number, maxWaitMs: number, onBusy: (busy: number) => void): Promise<Quiet> {
  const started = Date.now()
  let busy = await cpuBusy()
  while (busy > threshold && Date.now() - started < maxWaitMs) {
    onBusy(busy)
    busy = await cpuBusy(2000)
  }
  return { busy, waitedS: (Date.now() - started) / 1000, loadAverage: loadavg()[0] ?? 0 }
}

export interface CpuSnapshot {
  /** Milliseconds of CPU time on all cores: busy, and busy + idle. */
  machineBusyMs: number
  machineAllMs: number
  /** CPU time of this process and all its descendants, or undefined where /proc is missing. */
  oursMs: number | undefined
}

// Linux reports process times in clock ticks of 1/100 s (getconf CLK_TCK).
const TICK_MS = 10

export function cpuSnapshot (): CpuSnapshot {
  let machineBusyMs = 0
  let machineAllMs = 0
  for (const { times } of cpus()) {
    const busy = times.user + times.nice + times.sys + times.irq
    machineBusyMs += busy
    machineAllMs += busy + times.idle
  }
  return { machineBusyMs, machineAllMs, oursMs: descendantsCpuMs() }
}

/**
 * Share of the machine's CPU used by processes other than the benchmark and its children between
 * two snapshots: work the figures had to share the cores with.
 */
export function othersShare (from: CpuSnapshot, to: CpuSnapshot): number | undefined {
  if (from.oursMs === undefined || to.oursMs === undefined) return undefined
  const all = to.machineAllMs - from.machineAllMs
  if (all <= 0) return undefined
  const others = (to.machineBusyMs - from.machineBusyMs) - (to.oursMs - from.oursMs)
  return Math.max(0, others / all)
}

/** CPU time (user + system) one process has used so far, or undefined where /proc is missing. */
export function processCpuMs (pid: number): number | undefined {
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    return undefined
  }
}

// The command name may hold spaces and parentheses; the fields after its closing ')' do not.
function statFields (stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

function descendantsCpuMs (): number | undefined {
  const self = process.cpuUsage()
  let entries: string[]
  try {
    entries = readdirSync('/proc').filter(name => /^\d+$/.test(name))
  } catch {
    return undefined
  }
  const children = new Map<number, number[]>()
  const cpuMs = new Map<number, number>()
  for (const name of entries) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8')
    } catch {
      continue
    }
    const fields = statFields(stat)
    const ppid = Number(fields[1])
    const pid = Number(name)
    cpuMs.set(pid, (Number(fields[11]) + Number(fields[12])) * TICK_MS)
    children.set(ppid, [...(children.get(ppid) ?? []), pid])
  }
  let total = (self.user + self.system) / 1000
  const queue = [...(children.get(process.pid) ?? [])]
  for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
    total += cpuMs.get(pid) ?? 0
    queue.push(...(children.get(pid) ?? []))
  }
  return total
}
