import { fileURLToPath } from 'node:url'
import { writeDemoBundle } from '../src/demo/build-bundle.js'

/**
 * `npm run build`, after tsc: bundles the demo page into dist/demo/bundle/, where the compiled
 * gateway serves it from (src/demo/demo-bundle.ts), so production needs neither esbuild nor the
 * page's sources.
 */
const directory = fileURLToPath(new URL('../dist/demo/bundle/', import.meta.url))
await writeDemoBundle(directory)
process.stdout.write(`demo bundle written to ${directory}\n`)
