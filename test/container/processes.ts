import { execFile, execFileSync } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Every process below `root`, deepest first. */
export function descendantsOf (root: number): number[] {
  const stdout = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
  const children = new Map<number, number[]>()
  for (const line of stdout.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number)
    if (pid === undefined || ppid === undefined || Number.isNaN(pid)) continue
    children.set(ppid, [...(children.get(ppid) ?? []), pid])
  }
  const found: number[] = []
  const visit = (pid: number): void => {
    for (const child of children.get(pid) ?? []) {
      visit(child)
      found.push(child)
    }
  }
  visit(root)
  return found
}

/** SIGKILL, where the process may have exited in the meantime. */
export function killIfRunning (pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error
  }
}

/** The pid of the process listening on a loopback TCP port, as `ss` names it. */
export async function pidListeningOn (port: number): Promise<number | undefined> {
  const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`])
  const pid = /pid=(\d+)/.exec(stdout)?.[1]
  return pid === undefined ? undefined : Number(pid)
}
