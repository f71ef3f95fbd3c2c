import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { assertOneLine, runEntryToExit, scratchDir } from './entry-process.js'

// Each case starts a node process that compiles TypeScript: slow on a busy machine.
t.setTimeout(300_000)

t.test('a malformed catalog file stops the gateway with one line naming the file and the place', async t => {
  const dir = await scratchDir(t)
  const models = join(dir, 'models')
  await mkdir(join(models, 'fal-ai'), { recursive: true })
  const seed = JSON.parse(await readFile(new URL('../../models/fal-ai/layer-diffusion.json', import.meta.url), 'utf8'))
  seed.openapi.components.schemas.LayerDiffusionInput.properties.seed = { $ref: '#/components/schemas/Seed' }
  const path = join(models, 'fal-ai/layer-diffusion.json')
  await writeFile(path, JSON.stringify(seed))
  const ended = await runEntryToExit(t, 'src/server.ts', dir, { MODELS_DIR: models })
  assertOneLine(t, ended, `fal-gateway: catalog file ${path} at #/openapi/components/schemas/LayerDiffusionInput/properties/seed/$ref: `, ['points at no schema'], 'a $ref to nothing')

  await writeFile(path, '{ "endpoint_id": "fal-ai/layer-diffusion", ')
  assertOneLine(t, await runEntryToExit(t, 'src/server.ts', dir, { MODELS_DIR: models }), `fal-gateway: catalog file ${path} at #: not valid JSON`, [], 'not JSON')
})
