import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

export interface TrackedMemory {
  mode: 'in-flight' | 'completed'
  count: number
  clients: number
  rssBytesPerRequest: number
  heapBytesPerRequest: number
  rssBefore: number
  rssAfter: number
}

const run = promisify(execFile)

/** Bytes per tracked request in the memory LimitStore, measured in a fresh child process. */
export async function measureTrackedMemory (script: string, count: number, mode: TrackedMemory['mode']): Promise<TrackedMemory> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(count), mode], {
    timeout: 120_000,
    maxBuffer: 1 << 20
  })
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as TrackedMemory
}
