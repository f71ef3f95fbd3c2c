import { copyFile, mkdtemp, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Test } from 'tap'

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url))

/**
 * A checkout of the project of its own (package.json and tsconfig copied, src and node_modules
 * linked), so a test can run `npm run dev` beside a `.env` of its own without touching the real
 * working tree, which other tests share. Removed in teardown.
 */
export async function projectCopy (t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'fal-gateway-copy-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  for (const file of ['package.json', 'tsconfig.json']) await copyFile(join(projectRoot, file), join(dir, file))
  for (const folder of ['src', 'scripts', 'node_modules']) await symlink(join(projectRoot, folder), join(dir, folder), 'dir')
  return dir
}
