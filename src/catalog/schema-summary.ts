import type { TSchema } from '@sinclair/typebox'

type Schema = Record<string, unknown>

/** What `show` prints and `refresh` compares, per field path: its type, bounds and default. */
export interface FieldSummary {
  type: string
  required: boolean
  bounds: string
  default?: string
}

const BOUNDS = ['minimum', 'exclusiveMinimum', 'maximum', 'exclusiveMaximum', 'multipleOf', 'minLength', 'maxLength', 'pattern', 'minItems', 'maxItems', 'uniqueItems']
const SYMBOLS: Record<string, string> = { minimum: '>=', exclusiveMinimum: '>', maximum: '<=', exclusiveMaximum: '<', multipleOf: 'multiple of', minLength: 'length >=', maxLength: 'length <=', pattern: 'matches', minItems: 'items >=', maxItems: 'items <=', uniqueItems: 'unique' }

function typeOf (schema: Schema): string {
  if ('const' in schema) return JSON.stringify(schema.const)
  const members = schema.anyOf as Schema[] | undefined
  if (Array.isArray(members)) return members.map(typeOf).join(' | ')
  if (schema.type === 'array') return `${typeOf((schema.items ?? {}) as Schema)}[]`
  return typeof schema.type === 'string' ? schema.type : 'any'
}

function boundsOf (schema: Schema): string {
  return BOUNDS.filter(key => schema[key] !== undefined && !(key === 'minimum' && schema[key] === Number.MIN_SAFE_INTEGER) && !(key === 'maximum' && schema[key] === Number.MAX_SAFE_INTEGER))
    .map(key => key === 'uniqueItems' ? SYMBOLS[key] : `${SYMBOLS[key] ?? key} ${String(schema[key])}`).join(', ')
}

/** Every field of an input schema, nested objects and array items included (`loras[].scale`). */
export function summarize (schema: TSchema): Map<string, FieldSummary> {
  const fields = new Map<string, FieldSummary>()
  const visit = (node: Schema, path: string): void => {
    const members = Array.isArray(node.anyOf) ? node.anyOf as Schema[] : [node]
    for (const member of members) {
      const target = member.type === 'array' && typeof member.items === 'object' && !Array.isArray(member.items) ? member.items as Schema : member
      const prefix = target === member ? path : `${path}[]`
      if (target.type !== 'object' || typeof target.properties !== 'object') continue
      const required = new Set((target.required ?? []) as string[])
      for (const [name, property] of Object.entries(target.properties as Record<string, Schema>)) {
        const field = prefix === '' ? name : `${prefix}.${name}`
        const bounds = [boundsOf(property), ...(Array.isArray(property.anyOf) ? (property.anyOf as Schema[]).map(boundsOf) : [])].filter(text => text !== '').join('; ')
        fields.set(field, {
          type: typeOf(property),
          required: required.has(name),
          bounds,
          ...(property.default === undefined ? {} : { default: JSON.stringify(property.default) })
        })
        visit(property, field)
      }
    }
  }
  visit(schema as Schema, '')
  return fields
}

/** What changed between two summaries, one line each: fields added, removed, and changed types, bounds or defaults. */
export function compareSummaries (before: Map<string, FieldSummary>, after: Map<string, FieldSummary>): string[] {
  const changes: string[] = []
  for (const [field, summary] of after) {
    const old = before.get(field)
    if (old === undefined) {
      changes.push(`+ ${field}: field added (${summary.type}${summary.required ? ', required' : ''})`)
      continue
    }
    if (old.type !== summary.type) changes.push(`~ ${field}: type ${old.type} -> ${summary.type}`)
    if (old.bounds !== summary.bounds) changes.push(`~ ${field}: bounds ${old.bounds || 'none'} -> ${summary.bounds || 'none'}`)
    if (old.required !== summary.required) changes.push(`~ ${field}: ${summary.required ? 'now required' : 'no longer required'}`)
    if (old.default !== summary.default) changes.push(`~ ${field}: default ${old.default ?? 'none'} -> ${summary.default ?? 'none'}`)
  }
  for (const field of before.keys()) {
    if (!after.has(field)) changes.push(`- ${field}: field removed`)
  }
  return changes
}
