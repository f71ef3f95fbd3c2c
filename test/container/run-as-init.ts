import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildah, type ImageConfig, type RunningContainer } from './buildah.js'

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
  const user = await passwdEntry(root, config.User ?? 'root')
  const command = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])]
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
    '/bin/sh', '-c', 'cd "$0" && exec "$@"', config.WorkingDir ?? '/', ...command
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.on('data', chunk => { output += String(chunk) })
  child.stderr.on('data', chunk => { output += String(chunk) })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  // unshare --kill-child takes the whole PID namespace down with it.
  const kill = (): void => { child.kill('SIGKILL') }
  process.once('exit', kill)
  return {
    output: () => output,
    exited,
    remove: async () => {
      process.off('exit', kill)
      if (child.exitCode === null && child.signalCode === null) {
        kill()
        await exited
      }
      await buildah('umount', container)
      await buildah('rm', container)
    }
  }
}

/** A user's ids and home as the image's own /etc/passwd has them. */
async function passwdEntry (root: string, name: string): Promise<{ uid: number, gid: number, home: string }> {
  const passwd = await readFile(join(root, 'etc/passwd'), 'utf8')
  const fields = passwd.split('\n').map(line => line.split(':')).find(entry => entry[0] === name || entry[2] === name)
  if (fields === undefined) throw new Error(`no user ${name} in the image`)
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5] ?? '/' }
}
