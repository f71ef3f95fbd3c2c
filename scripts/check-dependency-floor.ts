import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

/**
 * Fails when an INSTALLED dependency is older than its security floor (the range in package.json
 * can be satisfied by an old lockfile or a stale node_modules; what runs is what counts).
 * fastify 5.12.1 and @fastify/rate-limit 11.2.0 carry known security fixes (an IPv6 /64 minting
 * unlimited rate-limit keys before 11.2.0, among others).
 */
const FLOORS: Record<string, string> = {
  fastify: '5.12.1',
  '@fastify/rate-limit': '11.2.0'
}

function parse (version: string): number[] {
  const core = /^(\d+)\.(\d+)\.(\d+)/.exec(version)
  if (core === null) throw new Error(`unreadable version "${version}"`)
  return core.slice(1).map(Number)
}

function isBelow (installed: string, floor: string): boolean {
  const [a, b] = [parse(installed), parse(floor)]
  for (let i = 0; i < 3; i++) {
    if ((a[i] as number) !== (b[i] as number)) return (a[i] as number) < (b[i] as number)
  }
  return false
}

const root = fileURLToPath(new URL('..', import.meta.url))
let failed = false
for (const [name, floor] of Object.entries(FLOORS)) {
  let installed: string
  try {
    installed = (JSON.parse(await readFile(`${root}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version
  } catch {
    process.stderr.write(`dependency floor: ${name} is not installed\n`)
    failed = true
    continue
  }
  if (isBelow(installed, floor)) {
    process.stderr.write(`dependency floor: ${name} ${installed} is below ${floor}\n`)
    failed = true
  } else {
    process.stdout.write(`dependency floor: ${name} ${installed} >= ${floor}\n`)
  }
}
process.exitCode = failed ? 1 : 0
