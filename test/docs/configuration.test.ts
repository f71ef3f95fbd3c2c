import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { promisify } from 'node:util'
import { Type } from '@sinclair/typebox'
import t from 'tap'
import { EnvSchema, SETTING_NAMES } from '../../src/config.js'
import { configurationReference, projectReferenceSources } from '../../scripts/configuration-reference.js'
import { shellEnvironment } from '../helpers/child-process.js'
import { projectRoot } from '../helpers/project-copy.js'

const documentPath = new URL('../../docs/configuration.md', import.meta.url)
const sources = await projectReferenceSources()

t.test('docs/configuration.md is what npm run docs:config writes from the schema and .env.example', async t => {
  const document = await readFile(documentPath, 'utf8')
  t.ok(document === configurationReference(sources), 'docs/configuration.md is stale: run npm run docs:config')
  for (const name of SETTING_NAMES) {
    const row = new RegExp(`^\\| \`${name}\` \\| ([^|]+) \\|`, 'm').exec(document)
    t.ok(row, `${name} has a row`)
    const fallback: unknown = (EnvSchema.properties as Record<string, { default?: unknown }>)[name]?.default
    if (fallback !== undefined && fallback !== '') t.equal(row?.[1]?.trim(), `\`${String(fallback)}\``, `${name}'s default is the schema's`)
  }
})

t.test('a schema change shows in the reference, so the stale file fails the test above', async t => {
  const schema = Type.Object({ ...EnvSchema.properties, PORT: Type.Integer({ minimum: 1, maximum: 65535, default: 8080 }) })
  const changed = configurationReference({ ...sources, schema })
  t.not(changed, configurationReference(sources))
  t.match(changed, /^\| `PORT` \| `8080` \| an integer from 1 to 65535 \|$/m)
})

t.test('a setting without its explanation in .env.example, or one the schema lacks, is refused by name', async t => {
  const added = Type.Object({ ...EnvSchema.properties, BRAND_NEW_SETTING: Type.Boolean({ default: false }) })
  t.throws(() => configurationReference({ ...sources, schema: added }), /\.env\.example does not explain: BRAND_NEW_SETTING/)
  const stale = `${sources.envExample}\n# A setting removed from the schema.\nOLD_SETTING=1\n`
  t.throws(() => configurationReference({ ...sources, envExample: stale }), /settings src\/config\.ts does not have: OLD_SETTING/)
})

t.test('npm run docs:config -- --check passes on the committed file', async t => {
  // execFile rejects on a non-zero exit, with the script's one line on stderr.
  await promisify(execFile)('npm', ['run', '-s', 'docs:config', '--', '--check'], { cwd: projectRoot, env: shellEnvironment() })
  t.pass('exit 0')
})
