import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'

export interface DemoBundle {
  js: string
  css?: string
}

// The page's sources stay in src/ (tsc does not compile them): this module sits two levels under
// the project root both as src/demo/*.ts and as dist/demo/*.js, so one relative path finds them.
const PAGE_DIR = fileURLToPath(new URL('../../src/demo/page/', import.meta.url))

/**
 * Bundles the demo page (the real `@fal-ai/client` included) in memory, once, at start-up.
 * esbuild is imported only here so that a gateway without the demo never loads it.
 */
export async function buildDemoBundle (): Promise<DemoBundle> {
  const { build } = await import('esbuild').catch((error: unknown) => {
    throw new Error('The demo is bundled at start-up and needs esbuild (a development dependency): install it or turn DEMO_ENABLED off', { cause: error })
  })
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
  return { js, css: text('.css') }
}

/** The page's HTML shell; the forms are drawn by the script. */
export async function readDemoHtml (): Promise<string> {
  return await readFile(`${PAGE_DIR}index.html`, 'utf8')
}
