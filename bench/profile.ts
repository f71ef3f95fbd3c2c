import { fileURLToPath } from 'node:url'
import { relative } from 'node:path'

/** The parts of V8's .cpuprofile JSON this summary reads. */
export interface CpuProfile {
  nodes: Array<{ id: number, callFrame: { functionName: string, url: string, lineNumber: number }, children?: number[] }>
  /** Microseconds, on the same monotonic clock as `process.hrtime`. */
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface SelfTime {
  name: string
  /** Where it lives: a project file, a package, node's internals, or a V8 category. */
  where: string
  ms: number
  share: number
}

export interface ProfileSummary {
  /** Sampled milliseconds inside the window, idle included. */
  totalMs: number
  idleShare: number
  functions: SelfTime[]
  /** Self time summed per package / project directory / node internals. */
  areas: SelfTime[]
  /**
   * Inclusive: the share of busy time with a frame of this package or project file anywhere on the
   * stack (so a package's callees count too; the shares overlap and do not add up).
   */
  onStack: SelfTime[]
}

const V8_CATEGORIES = new Set(['(idle)', '(program)', '(garbage collector)', '(root)'])

/**
 * Self time per function (functionName + url + line) and per area, from the samples whose
 * timestamps fall inside [fromUs, toUs] (the load window), so start-up and shutdown do not count.
 */
export function summariseProfile (profile: CpuProfile, root: string, fromUs = -Infinity, toUs = Infinity, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map(node => [node.id, node]))
  const parentOf = new Map<number, number>()
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id)
  const selfUs = new Map<number, number>()
  let at = profile.startTime
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0
    at += delta
    if (at < fromUs || at > toUs) continue
    const id = profile.samples[i] as number
    selfUs.set(id, (selfUs.get(id) ?? 0) + delta)
  }

  const functions = new Map<string, SelfTime>()
  const areas = new Map<string, SelfTime>()
  let totalUs = 0
  let idleUs = 0
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) continue
    totalUs += us
    if (frame.functionName === '(idle)') idleUs += us
    const where = locate(frame.url, root)
    const name = V8_CATEGORIES.has(frame.functionName) ? frame.functionName : `${frame.functionName || '(anonymous)'}`
    const key = `${name}\u0000${where}\u0000${frame.lineNumber}`
    const fn = functions.get(key) ?? { name, where: lineOf(where, frame.lineNumber), ms: 0, share: 0 }
    fn.ms += us / 1000
    functions.set(key, fn)
    const areaName = V8_CATEGORIES.has(frame.functionName) ? frame.functionName : area(where)
    const areaEntry = areas.get(areaName) ?? { name: areaName, where: '', ms: 0, share: 0 }
    areaEntry.ms += us / 1000
    areas.set(areaName, areaEntry)
  }

  const onStack = new Map<string, SelfTime>()
  for (const [id, us] of selfUs) {
    if (byId.get(id)?.callFrame.functionName === '(idle)') continue
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const where = locate(byId.get(at)?.callFrame.url ?? '', root)
      const name = stackArea(where)
      if (name !== undefined) seen.add(name)
    }
    for (const name of seen) {
      const entry = onStack.get(name) ?? { name, where: '', ms: 0, share: 0 }
      entry.ms += us / 1000
      onStack.set(name, entry)
    }
  }

  // Shares are of the busy time: idle is the time the process had nothing to do.
  const busyMs = (totalUs - idleUs) / 1000
  const rank = (entries: Iterable<SelfTime>) => [...entries]
    .filter(entry => entry.name !== '(idle)')
    .map(entry => ({ ...entry, share: busyMs > 0 ? entry.ms / busyMs : 0 }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top)
  return {
    totalMs: totalUs / 1000,
    idleShare: totalUs > 0 ? idleUs / totalUs : 0,
    functions: rank(functions.values()),
    areas: rank(areas.values()),
    onStack: rank(onStack.values())
  }
}

/** A short location: `src/…`, `node_modules/pkg/…`, `node:…`, or '' for native code. */
function locate (url: string, root: string): string {
  if (url === '') return ''
  if (url.startsWith('file://')) {
    const path = relative(root, fileURLToPath(url))
    return path.startsWith('..') ? fileURLToPath(url) : sourceOf(path)
  }
  return url
}

/** The gateway runs compiled: `dist/upstream/deadline.js` is named as its source, `src/upstream/deadline.ts`. */
export function sourceOf (path: string): string {
  return path.startsWith('dist/') ? `src/${path.slice('dist/'.length).replace(/\.js$/, '.ts')}` : path
}

// Lines of TypeScript run through tsx are lines of the transpiled code, not of the source.
function lineOf (where: string, lineNumber: number): string {
  if (where === '' || where.endsWith('.ts')) return where
  return `${where}:${lineNumber + 1}`
}

/** For the inclusive view: a package, or a project file; node's internals and native code are left out. */
function stackArea (where: string): string | undefined {
  if (where === '' || where.startsWith('node:')) return undefined
  const modules = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)
  if (modules !== null) return modules[1] as string
  return where.startsWith('src/') ? where : undefined
}

function area (where: string): string {
  if (where === '') return '(native)'
  const modules = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where)
  if (modules !== null) return modules[1] as string
  if (where.startsWith('node:')) return 'node internals'
  const dir = /^(src\/[^/]+)\//.exec(where)
  if (dir !== null) return dir[1] as string
  return where
}
