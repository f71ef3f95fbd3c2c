import { readFile, writeFile } from 'node:fs/promises'
import { configurationReference, projectReferenceSources } from './configuration-reference.js'

/**
 * `npm run docs:config` writes docs/configuration.md from the settings schema and .env.example;
 * `npm run docs:config -- --check` only says whether the file is up to date (exit 1 if not).
 */
const target = new URL('../docs/configuration.md', import.meta.url)
const reference = configurationReference(await projectReferenceSources())

if (process.argv.includes('--check')) {
  const current = await readFile(target, 'utf8').catch(() => '')
  if (current !== reference) {
    process.stderr.write('docs/configuration.md does not match src/config.ts and .env.example: run npm run docs:config\n')
    process.exitCode = 1
  }
} else {
  await writeFile(target, reference)
  process.stdout.write('wrote docs/configuration.md\n')
}
