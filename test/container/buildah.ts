import { execFile, execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * buildah as the image test uses it: its own storage (vfs, outside the clone, see storage.conf) and
 * chroot isolation, the two that work in this sandbox without a container engine.
 */
export const BUILDAH_ENV = {
  ...process.env,
  CONTAINERS_STORAGE_CONF: fileURLToPath(new URL('storage.conf', import.meta.url)),
  BUILDAH_ISOLATION: 'chroot'
}

/** Runs one buildah command and returns its stdout; a failure carries buildah's stderr. */
export async function buildah (...args: string[]): Promise<string> {
  try {
    const { stdout } = await run('buildah', args, { env: BUILDAH_ENV, maxBuffer: 64 * 1024 * 1024 })
    return stdout.trim()
  } catch (error) {
    const { stderr } = error as { stderr?: string }
    throw new Error(`buildah ${args[0] ?? ''} failed: ${stderr ?? String(error)}`)
  }
}

export interface ImageConfig {
  User?: string
  Env?: string[]
  Entrypoint?: string[] | null
  Cmd?: string[] | null
  WorkingDir?: string
  ExposedPorts?: Record<string, object>
  Healthcheck?: { Test: string[], Interval: number, Timeout: number, StartPeriod: number, Retries: number }
  Labels?: Record<string, string>
}

/** The image's Docker-format config, the one `docker run` follows (HEALTHCHECK included). */
export async function imageConfig (image: string): Promise<{ config: ImageConfig, raw: string }> {
  const raw = await buildah('inspect', '--type', 'image', image)
  const inspected = JSON.parse(raw) as { Docker: { config: ImageConfig } }
  return { config: inspected.Docker.config, raw }
}

export interface RunningContainer {
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string
  /** Resolves with the process's exit code (buildah run passes it through). */
  exited: Promise<number | null>
  /** Removes the working container; kills the process first if it still runs. */
  remove: () => Promise<void>
}

/**
 * Runs `command` in a new working container of `image` on the host network, as the image's USER,
 * with `env` on top of the image's environment. buildah does not forward signals to the process:
 * signal it by its pid (see `pidListeningOn`).
 */
export async function runContainer (image: string, command: string[], env: Record<string, string>): Promise<RunningContainer> {
  const container = await buildah('from', '--pull-never', image)
  const envFlags = Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`])
  const child = spawn('buildah', ['run', '--network', 'host', ...envFlags, container, '--', ...command], { env: BUILDAH_ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', chunk => { output += String(chunk) })
  child.stderr.on('data', chunk => { output += String(chunk) })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  // Killing buildah run alone would leave the containerized process running.
  const killAll = (): void => {
    for (const pid of descendantsOf(child.pid as number)) process.kill(pid, 'SIGKILL')
    child.kill('SIGKILL')
  }
  process.once('exit', killAll)
  return {
    output: () => output,
    exited,
    remove: async () => {
      process.off('exit', killAll)
      if (child.exitCode === null && child.signalCode === null) {
        killAll()
        await exited
      }
      await buildah('rm', container)
    }
  }
}

/** Every process below `root` (buildah run's own children included), deepest first. */
function descendantsOf (root: number): number[] {
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

/** The pid of the process listening on a loopback TCP port, as `ss` names it. */
export async function pidListeningOn (port: number): Promise<number | undefined> {
  const { stdout } = await run('ss', ['-ltnpH', `sport = :${port}`])
  const pid = /pid=(\d+)/.exec(stdout)?.[1]
  return pid === undefined ? undefined : Number(pid)
}
