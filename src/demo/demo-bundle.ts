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

/** Whether the gateway runs from its TypeScript sources (development, tests) rather than from dist/. */
export const RUNS_FROM_SOURCES = import.meta.url.endsWith('.ts')

/** Reads the bundle `npm run build` wrote; a missing one is a start-up error that says what to do. */
export async function readBuiltDemo (directory: string): Promise<DemoBundle> {
  try {
    const read = async (file: string): Promise<string> => await readFile(join(directory, file), 'utf8')
    const [html, js, css] = await Promise.all([read(DEMO_FILES.html), read(DEMO_FILES.js), read(DEMO_FILES.css)])
    return { html, js, css }
  } catch (error) {
    throw new Error(`The demo bundle is missing from ${directory}: build the gateway with \`npm run build\`, or turn DEMO_ENABLED off`, { cause: error })
  }
}
