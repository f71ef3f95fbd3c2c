import type { CatalogEndpoint } from '../catalog/catalog-endpoint.js'
import type { Field, ModelForm } from './page/fields.js'

type Schema = Record<string, unknown>

const constants = (members: Schema[]): string[] | undefined =>
  members.length > 0 && members.every(member => typeof member.const === 'string') ? members.map(member => member.const as string) : undefined

/** One form field for an input property, or undefined for what the page does not offer (lists, nested objects). */
function fieldOf (name: string, property: Schema, required: boolean): Field | undefined {
  const label = typeof property.title === 'string' ? property.title : name
  const hint = required ? 'required' : undefined
  const members = Array.isArray(property.anyOf) ? (property.anyOf as Schema[]).filter(member => member.type !== 'null') : [property]
  const flat = members.flatMap(member => Array.isArray(member.anyOf) ? member.anyOf as Schema[] : [member])
  const presets = constants(flat.filter(member => member.type !== 'object'))
  const sized = flat.some(member => member.type === 'object' && typeof member.properties === 'object' && 'width' in (member.properties as Schema))
  if (sized && presets !== undefined) return { kind: 'image-size', name, label, presets, value: typeof property.default === 'string' ? property.default : presets[0] as string, hint: 'custom sides too' }
  const options = constants(flat)
  if (options !== undefined) return { kind: 'select', name, label, options, value: typeof property.default === 'string' ? property.default : options[0] as string, hint }
  const [only] = members
  if (only === undefined || members.length > 1) return undefined
  switch (only.type) {
    case 'string':
      if (name.endsWith('_url')) return { kind: 'image-source', name, label }
      return { kind: 'text', name, label, multiline: name.includes('prompt'), value: typeof property.default === 'string' ? property.default : undefined, hint }
    case 'integer':
    case 'number': {
      const min = typeof only.minimum === 'number' && only.minimum > Number.MIN_SAFE_INTEGER ? only.minimum : typeof only.exclusiveMinimum === 'number' ? only.exclusiveMinimum : undefined
      const max = typeof only.maximum === 'number' && only.maximum < Number.MAX_SAFE_INTEGER ? only.maximum : typeof only.exclusiveMaximum === 'number' ? only.exclusiveMaximum : undefined
      const step = typeof only.multipleOf === 'number' ? only.multipleOf : only.type === 'integer' ? 1 : undefined
      return { kind: 'number', name, label, value: typeof property.default === 'number' ? property.default : undefined, step, min, max, hint: hint ?? (name === 'seed' ? 'empty for random' : undefined) }
    }
    case 'boolean': return { kind: 'checkbox', name, label, value: property.default === true }
    default: return undefined
  }
}

/**
 * The demo's forms, generated from the catalog's input schemas: enums as selects, bounds on number
 * fields, `*_url` fields as uploads, image sizes as a preset or width and height. Lists and nested
 * objects (LoRAs, ControlNets) are left to their defaults.
 */
export function modelFormsOf (endpoints: readonly CatalogEndpoint[]): ModelForm[] {
  return endpoints.map(endpoint => {
    const required = new Set((endpoint.input.required ?? []) as string[])
    const properties = endpoint.input.properties as Record<string, Schema>
    const fields = Object.entries(properties).flatMap(([name, property]) => fieldOf(name, property, required.has(name)) ?? [])
    return {
      id: endpoint.id,
      slug: endpoint.id.split('/').slice(1).join('-'),
      title: endpoint.title,
      blurb: `fal app ${endpoint.appId}`,
      // Opaque results cover the checkerboard; transparent ones show it.
      transparent: true,
      fields
    }
  })
}
