import t, { type Test } from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { loadCatalog } from '../../src/catalog/load-catalog.js'
import { ConfigError } from '../../src/config.js'
import { FAL_DOCUMENTS, catalogFileOf, falDocument, syntheticDocument } from '../helpers/fal-documents.js'

function writeCatalog (directory: string, files: Record<string, unknown>): string {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(directory, path, '..'), { recursive: true })
    writeFileSync(join(directory, path), typeof content === 'string' ? content : JSON.stringify(content))
  }
  return directory
}

async function startupLine (t: Test, files: Record<string, unknown>): Promise<string> {
  const directory = writeCatalog(t.testdir(), files)
  let error: unknown
  try {
    loadCatalog(directory)
  } catch (caught) {
    error = caught
  }
  t.ok(error instanceof ConfigError, 'a ConfigError: one line, exit 1')
  const message = (error as Error).message
  t.notOk(message.includes('\n'), 'one line')
  return message.replace(directory, '<dir>')
}

t.test('a catalog of every real document loads; endpoints of any depth keep their app id', async t => {
  const files = Object.fromEntries(FAL_DOCUMENTS.map(document => [`${document.endpointId}.json`, catalogFileOf(document)]))
  const catalog = loadCatalog(writeCatalog(t.testdir(), files))
  t.same(catalog.endpoints.map(endpoint => endpoint.id), FAL_DOCUMENTS.map(document => document.endpointId).sort())
  t.equal(catalog.find('fal-ai/flux/dev')?.appId, 'fal-ai/flux')
  t.ok(catalog.servesApp('fal-ai/flux-pro'))
  t.notOk(catalog.servesApp('fal-ai/flux-pro/v1.1-ultra'), 'an app id is owner/alias only')
  t.equal(catalog.find('fal-ai/flux'), undefined)
})

t.test('a file the gateway cannot serve stops start-up with one line naming the file and the place', async t => {
  const layer = falDocument('fal-ai/layer-diffusion')
  t.equal(await startupLine(t, { 'fal-ai/layer-diffusion.json': '{"endpoint_id": ' }),
    'catalog file <dir>/fal-ai/layer-diffusion.json at #: not valid JSON (Unexpected end of JSON input)')
  t.equal((await startupLine(t, { 'fal-ai/layer-diffusion.json': { ...catalogFileOf(layer), price: { unit_price: 'cheap', unit: 'image' } } })).replace(/: .*$/, ''),
    'catalog file <dir>/fal-ai/layer-diffusion.json at #/price/unit_price')
  t.match(await startupLine(t, { 'fal-ai/other.json': catalogFileOf(layer) }),
    /^catalog file <dir>\/fal-ai\/other\.json at #\/endpoint_id: "fal-ai\/layer-diffusion" belongs in fal-ai\/layer-diffusion\.json/)
  t.equal(await startupLine(t, { 'acme/tool.json': { endpoint_id: 'acme/tool', openapi: syntheticDocument('acme/tool', { type: 'object', properties: { size: { $ref: '#/components/schemas/Size' } } }) } }),
    'catalog file <dir>/acme/tool.json at #/openapi/components/schemas/Input/properties/size/$ref: "#/components/schemas/Size" points at no schema in the document')
  t.equal(await startupLine(t, { 'acme/tool.json': { endpoint_id: 'acme/tool', openapi: { error: { code: 'expansion_failed', message: 'OpenAPI schema not available for this endpoint' } } } }),
    'catalog file <dir>/acme/tool.json at #/openapi/error: fal published no document for this endpoint: OpenAPI schema not available for this endpoint')
  t.match(await startupLine(t, {}), /^Invalid MODELS_DIR: <dir> holds no catalog files/)
})
