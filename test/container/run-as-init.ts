import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildah, type ImageConfig } from './buildah.js'
import { descendantsOf, killIfRunning } from './processes.js'
import { trackContainer, type RunningContainer } from './running-container.js'

/**
 * Runs an image as a container engine would, minus the engine: the image's root filesystem, USER,
 * WorkingDir, Env, Entrypoint and Cmd, in a PID namespace of its own where the entrypoint is PID 1
 * and execs node, so node receives SIGTERM as PID 1, the way `docker stop` delivers it. (`buildah
 * run` leaves its own helper in between.) The network is the host's, as with `--network host`.
 * Needs root and util-linux's unshare.
 */
export async function runAsInit (image: string, config: ImageConfig, env: Record<string, string>): Promise<RunningContainer> {
  const container = await buildah('from', '--pull-never', image)
  const root = await buildah('mount', container)
  const release = async (): Promise<void> => {
    await buildah('umount', container)
    await buildah('rm', container)
  }
  let user: ImageUser
  try {
    user = await imageUser(root, config.User ?? 'root')
  } catch (error) {
    await release()
    throw error
  }
  const environment = {
    ...Object.fromEntries((config.Env ?? []).map(entry => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)])),
    HOME: user.home,
    ...env
  }
  // `env -i` starts as PID 1 with exactly the container's environment (nothing of the test
  // runner's, which adds its own NODE_OPTIONS to every child), then `sh -c` enters WorkingDir and
  // execs the entrypoint, which execs node.
  const child = spawn('unshare', [
    '--pid', '--fork', '--kill-child', '--mount', `--mount-proc=${join(root, 'proc')}`,
    'chroot', `--userspec=${user.uid}:${user.gid}`, root,
    '/usr/bin/env', '-i', ...Object.entries(environment).map(([name, value]) => `${name}=${value}`),
    '/bin/sh', '-c', 'cd "$0" && exec "$@"', config.WorkingDir ?? '/', ...(config.Entrypoint ?? []), ...(config.Cmd ?? [])
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  // unshare --kill-child's death signal does not survive chroot's change of user, so the
  // container's processes are killed by pid, deepest first, before unshare itself.
  const kill = (): void => {
    for (const pid of descendantsOf(child.pid as number)) killIfRunning(pid)
    child.kill('SIGKILL')
  }
  return trackContainer(child, kill, release)
}

interface ImageUser { uid: number, gid: number, home: string }

/** USER (`name`, `uid`, `name:group` or `uid:gid`) resolved as the image's own /etc/passwd has it. */
async function imageUser (root: string, user: string): Promise<ImageUser> {
  const [name, group] = user.split(':') as [string, string | undefined]
  const passwd = await readFile(join(root, 'etc/passwd'), 'utf8')
  const fields = passwd.split('\n').map(line => line.split(':')).find(entry => entry[0] === name || entry[2] === name)
  if (fields === undefined) throw new Error(`no user ${name} in the image`)
  const gid = group !== undefined && /^\d+$/.test(group) ? Number(group) : Number(fields[3])
  return { uid: Number(fields[2]), gid, home: fields[5] ?? '/' }
}
