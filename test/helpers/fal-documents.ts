import { readdirSync, readFileSync } from 'node:fs'
import type { CatalogFile } from '../../src/catalog/catalog-file.js'

const FIXTURES = new URL('../fixtures/fal-openapi/', import.meta.url)

export interface FalDocument {
  endpointId: string
  /** The fixture's file name. */
  fixture: string
  openapi: Record<string, unknown>
}

/** Every real fal document in test/fixtures/fal-openapi, with the endpoint it describes. */
export const FAL_DOCUMENTS: readonly FalDocument[] = readdirSync(FIXTURES)
  .filter(name => /^[a-z0-9-]+__.+\.json$/.test(name))
  .sort()
  .map(fixture => {
    const openapi = JSON.parse(readFileSync(new URL(fixture, FIXTURES), 'utf8')) as Record<string, unknown>
    return { endpointId: fixture.slice(0, -'.json'.length).split('__').join('/'), fixture, openapi }
  })

export function falDocument (endpointId: string): FalDocument {
  const found = FAL_DOCUMENTS.find(document => document.endpointId === endpointId)
  if (found === undefined) throw new Error(`no fixture for ${endpointId}`)
  return found
}

/** A catalog file holding fal's document as it is. */
export function catalogFileOf (document: FalDocument, extra: Partial<CatalogFile> = {}): CatalogFile {
  return { endpoint_id: document.endpointId, source: `test/fixtures/fal-openapi/${document.fixture}`, openapi: document.openapi, ...extra }
}

/** A minimal fal-shaped document for `endpointId` whose input is `input` and whose other schemas are `schemas`. */
export function syntheticDocument (endpointId: string, input: unknown, schemas: Record<string, unknown> = {}, output: unknown = { type: 'object', properties: { ok: { type: 'boolean' } } }): Record<string, unknown> {
  const json = (schema: unknown) => ({ content: { 'application/json': { schema } } })
  return {
    openapi: '3.0.4',
    info: { title: `Queue OpenAPI for ${endpointId}`, version: '1.0.0' },
    components: { schemas: { Input: input, Output: output, ...schemas } },
    paths: {
      [`/${endpointId}`]: { post: { requestBody: { required: true, ...json({ $ref: '#/components/schemas/Input' }) } } },
      [`/${endpointId}/requests/{request_id}`]: { get: { responses: { 200: json({ $ref: '#/components/schemas/Output' }) } } }
    }
  }
}
