import { execFile } from 'node:child_process'
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * Where a careless build would pick up a secret or a host artifact: env files, the host's
 * node_modules and dist, the git directory, the tests. The image must contain none of them.
 */
export const PLANTED_PATHS = [
  '.env',
  '.env.production.local',
  'src/demo/page/.env',
  'node_modules/planted-module/index.js',
  'dist/planted.js',
  '.git/planted-config',
  'test/planted.test.ts'
] as const

/**
 * A copy of the project's working tree (tracked and untracked files, as `git` sees them, Dockerfile
 * and .dockerignore unmodified), with a file holding `secret` planted at each of PLANTED_PATHS.
 * Building from the copy leaves the developer's own `.env` and `node_modules` out of the question.
 */
export async function buildContextWithPlantedSecrets (projectRoot: string, secret: string): Promise<string> {
  const context = await mkdtemp(join(tmpdir(), 'fal-gateway-context-'))
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: projectRoot, maxBuffer: 16 * 1024 * 1024 })
  const files = stdout.split('\0').filter(file => file.length > 0 && existsSync(join(projectRoot, file)))
  for (const file of files) {
    await mkdir(dirname(join(context, file)), { recursive: true })
    await cp(join(projectRoot, file), join(context, file))
  }
  for (const path of PLANTED_PATHS) {
    await mkdir(dirname(join(context, path)), { recursive: true })
    await writeFile(join(context, path), path.startsWith('.env') ? `FAL_KEY=${secret}\n` : `// planted: ${secret}\n`)
  }
  return context
}
