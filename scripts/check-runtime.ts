import { readFile } from 'node:fs/promises'

/**
 * Fails unless this process runs on the Node the project pins: the `node` devDependency (the npm
 * registry's package of Node itself), which npm puts first on the PATH of every script. A machine's
 * own older Node would otherwise run the tests, the benchmark and the dev server without a word.
 */
const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
  devDependencies: Record<string, string>
}
const pinned = manifest.devDependencies.node
const running = process.versions.node

if (running !== pinned) {
  process.stderr.write(
    `runtime: this is Node ${running} (${process.execPath}), the project runs on Node ${pinned ?? '(no pin)'}: ` +
    'run it through npm (npm test, npm run dev, npm run bench), after npm ci\n'
  )
  process.exitCode = 1
} else {
  process.stdout.write(`runtime: Node ${running} (${process.execPath})\n`)
}
