// The suite runs on the Node the project pins (the `node` devDependency), not on whatever Node the
// machine has: npm puts node_modules/.bin first on the PATH of `npm test`, and tap starts each test
// file with the Node that runs tap itself.
import { execFile } from 'node:child_process'
import { existsSync, realpathSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import t from 'tap'

const run = promisify(execFile)
const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
  engines: { node: string }
  devDependencies: Record<string, string>
}
const pinned = manifest.devDependencies.node as string
const majorOf = (version: string): number => Number(/^v?(\d+)\./.exec(version)?.[1])

t.test('this test file runs on the pinned Node 24', async t => {
  t.comment(`process.version ${process.version} at ${process.execPath}`)
  t.match(pinned, /^24\.\d+\.\d+$/, 'package.json pins an exact Node 24 release')
  t.equal(process.versions.node, pinned, `tap runs the tests on Node ${pinned}`)
  t.equal(realpathSync(process.execPath), realpathSync(new URL('../node_modules/node/bin/node', import.meta.url)), 'the binary from the node devDependency')
  const floor = /^>=\s*(\d+)/.exec(manifest.engines.node)?.[1]
  t.equal(Number(floor), 24, 'engines.node asks for Node 24 or newer')
  t.ok(majorOf(pinned) >= Number(floor), 'the pinned release satisfies engines')
})

// A second Node on the machine (Debian's), to show the check turns it away.
const otherNode = existsSync('/usr/bin/node') ? (await run('/usr/bin/node', ['--version'])).stdout.trim() : undefined
const noOtherNode = otherNode === undefined || otherNode === `v${pinned}` ? 'no other Node on this machine' : false

t.test('the runtime check (npm run check:runtime) refuses any other Node', { skip: noOtherNode }, async t => {
  const failure = await run('/usr/bin/node', ['--import', 'tsx', 'scripts/check-runtime.ts']).then(() => null, (error: { code: number, stderr: string }) => error)
  t.equal(failure?.code, 1, `exit code 1 on the machine's ${otherNode ?? ''}`)
  t.match(failure?.stderr, `the project runs on Node ${pinned}`, 'and says which Node it wants')
})
