import { execFile, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { descendantsOf, killIfRunning } from './processes.js'
import { trackContainer, type RunningContainer } from './running-container.js'

const run = promisify(execFile)

/**
 * buildah as the image test uses it: its own storage (vfs, outside the clone, see storage.conf) and
 * chroot isolation, the two that work in this sandbox without a container engine.
 */
const BUILDAH_ENV = {
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

/**
 * Runs `command` in a new working container of `image` on the host network, as the image's USER,
 * with `env` on top of the image's environment. buildah does not forward signals to the process.
 */
export async function runContainer (image: string, command: string[], env: Record<string, string>): Promise<RunningContainer> {
  const container = await buildah('from', '--pull-never', image)
  const envFlags = Object.entries(env).flatMap(([name, value]) => ['--env', `${name}=${value}`])
  const child = spawn('buildah', ['run', '--network', 'host', ...envFlags, container, '--', ...command], { env: BUILDAH_ENV, stdio: ['ignore', 'pipe', 'pipe'] })
  // Killing buildah run alone would leave the containerized process running.
  const kill = (): void => {
    for (const pid of descendantsOf(child.pid as number)) killIfRunning(pid)
    child.kill('SIGKILL')
  }
  return trackContainer(child, kill, async () => { await buildah('rm', container) })
}
