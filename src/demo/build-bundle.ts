import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEMO_FILES, type DemoBundle } from './demo-bundle.js'

// The page's sources stay in src/ (tsc does not compile them). Only a checkout has them: this runs
// at `npm run build` and, from the sources, in development and tests; never in the image.
const PAGE_DIR = fileURLToPath(new URL('../../src/demo/page/', import.meta.url))

/**
 * Bundles the demo page (the real `@fal-ai/client` included) in memory. esbuild is a development
 * dependency, imported only here.
 */
export async function bundleDemo (): Promise<DemoBundle> {
  const { build } = await import('esbuild')
  const result = await build({
    entryPoints: [`${PAGE_DIR}main.ts`],
    bundle: true,
    write: false,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    minify: true,
    legalComments: 'none',
    outdir: 'out',
    logLevel: 'silent'
  })
  const text = (extension: string) => result.outputFiles.find(file => file.path.endsWith(extension))?.text
  const js = text('.js')
  if (js === undefined) throw new Error('The demo bundle produced no JavaScript')
  return { html: await readFile(`${PAGE_DIR}index.html`, 'utf8'), js, css: text('.css') ?? '' }
}

/** Writes the bundle where the compiled gateway serves it from (`npm run build`). */
export async function writeDemoBundle (directory: string): Promise<void> {
  const bundle = await bundleDemo()
  await mkdir(directory, { recursive: true })
  await Promise.all((Object.keys(DEMO_FILES) as Array<keyof DemoBundle>).map(part => writeFile(join(directory, DEMO_FILES[part]), bundle[part])))
}
