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

type Schema = Record<string, any>

/** A value valid for `schema`: inside its bounds, the first of its choices, a URL for `*_url` fields. */
export function validValue (schema: Schema, name = ''): unknown {
  if ('const' in schema) return schema.const
  if (Array.isArray(schema.anyOf)) return validValue(schema.anyOf.find((member: Schema) => member.type !== 'null') ?? schema.anyOf[0], name)
  switch (schema.type) {
    case 'string': return name.endsWith('_url') ? 'https://example.com/input.png' : 'a red fox in the snow'
    case 'integer':
    case 'number': {
      const step = schema.multipleOf ?? 1
      const low = schema.minimum > Number.MIN_SAFE_INTEGER ? schema.minimum : schema.exclusiveMinimum === undefined ? 1 : schema.exclusiveMinimum + step
      return Math.ceil(low / step) * step
    }
    case 'boolean': return true
    case 'array': return Array.from({ length: schema.minItems ?? 0 }, () => validValue(schema.items ?? {}, name))
    case 'object': return Object.fromEntries((schema.required ?? []).map((key: string) => [key, validValue(schema.properties[key], key)]))
    default: return null
  }
}

/** For each rule a top-level field of `input` has, one value that breaks it. */
export function violations (input: Schema): Array<{ rule: string, field: string, value: unknown }> {
  const found: Array<{ rule: string, field: string, value: unknown }> = []
  for (const [field, schema] of Object.entries(input.properties as Record<string, Schema>)) {
    const plain = Array.isArray(schema.anyOf) ? schema.anyOf.find((member: Schema) => member.type !== 'null') ?? schema : schema
    const add = (rule: string, value: unknown): void => { found.push({ rule: `${field}: ${rule}`, field, value }) }
    const members: Schema[] = Array.isArray(schema.anyOf) ? schema.anyOf : [schema]
    const takesStrings = members.some(member => member.type === 'string' || typeof member.const === 'string' || Array.isArray(member.anyOf))
    const anyString = members.some(member => member.type === 'string')
    add('wrong type', takesStrings ? { not: 'a string' } : 'not-a-number-or-list')
    if (typeof plain.minimum === 'number' && plain.minimum > Number.MIN_SAFE_INTEGER) add('below minimum', plain.minimum - 1)
    if (typeof plain.maximum === 'number' && plain.maximum < Number.MAX_SAFE_INTEGER) add('above maximum', plain.maximum + 1)
    if (typeof plain.exclusiveMinimum === 'number') add('at the exclusive minimum', plain.exclusiveMinimum)
    if (typeof plain.exclusiveMaximum === 'number') add('at the exclusive maximum', plain.exclusiveMaximum)
    if (plain.type === 'integer') add('not an integer', (validValue(plain) as number) + 0.5)
    if (typeof plain.multipleOf === 'number' && plain.multipleOf > 1) add('not a multiple', (validValue(plain) as number) + 1)
    if (!anyString && Array.isArray(plain.anyOf) && plain.anyOf.every((member: Schema) => 'const' in member)) add('outside the enum', 'no-such-choice')
    if (typeof plain.maxLength === 'number') add('too long', 'x'.repeat(plain.maxLength + 1))
    if (typeof plain.minItems === 'number' && plain.minItems > 0) add('too few items', [])
    if (typeof plain.maxItems === 'number') add('too many items', Array.from({ length: plain.maxItems + 1 }, () => validValue(plain.items ?? {})))
  }
  for (const field of input.required ?? []) found.push({ rule: `${String(field)}: missing`, field: String(field), value: undefined })
  found.push({ rule: 'an unknown field', field: 'no_such_field', value: 1 })
  return found
}
