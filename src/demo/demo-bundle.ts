import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The demo page as served: its HTML shell, its script (with `@fal-ai/client`), its styles. */
export interface DemoBundle {
  html: string
  js: string
  css: string
}

/** The files of a prebuilt bundle, by part. */
export const DEMO_FILES: Record<keyof DemoBundle, string> = { html: 'index.html', js: 'app.js', css: 'app.css' }

/** Where `npm run build` puts the bundle: beside the compiled module, in dist/demo/bundle/. */
export const BUILT_DEMO_DIR = fileURLToPath(new URL('./bundle/', import.meta.url))

/** Whether this module runs from its TypeScript source (development, tests) rather than from dist/. */
const RUNS_FROM_SOURCES = import.meta.url.endsWith('.ts')

/**
 * The bundle to serve: read from `directory` when given, or when the gateway runs compiled (the
 * production image has no page sources and no esbuild); bundled on the fly from the sources
 * otherwise, so development and tests always serve the page as it is now.
 */
export async function loadDemoBundle (directory?: string): Promise<DemoBundle> {
  if (directory === undefined && RUNS_FROM_SOURCES) {
    const { bundleDemo } = await import('./build-bundle.js')
    return await bundleDemo()
  }
  const from = directory ?? BUILT_DEMO_DIR
  try {
    const read = async (file: string): Promise<string> => await readFile(join(from, file), 'utf8')
    const [html, js, css] = await Promise.all([read(DEMO_FILES.html), read(DEMO_FILES.js), read(DEMO_FILES.css)])
    return { html, js, css }
  } catch (error) {
    throw new Error(`The demo bundle is missing from ${from}: build the gateway with \`npm run build\`, or turn DEMO_ENABLED off`, { cause: error })
  }
}
