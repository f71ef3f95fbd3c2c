import type { SchemaOverride } from './catalog-file.js'
import { ConversionError, pointerTo } from './conversion-error.js'

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

const decode = (segment: string): string => segment.replace(/~1/g, '/').replace(/~0/g, '~')

/**
 * Applies the operator's overrides to a copy of fal's document. An override whose pointer finds
 * nothing is refused: after a refresh moved the field, a silent no-op would drop the operator's bound.
 * `at` is the pointer of the overrides list in the catalog file.
 */
export function applySchemaOverrides (document: Json, overrides: readonly SchemaOverride[], at: string): Json {
  const copy = structuredClone(document)
  overrides.forEach((override, index) => {
    const here = pointerTo(at, index)
    const segments = override.pointer.split('/').slice(1).map(decode)
    const name = segments.at(-1) as string
    const parent = segments.slice(0, -1).reduce<unknown>((node, segment) => isObject(node) ? node[segment] : undefined, copy)
    const target = isObject(parent) ? parent[name] : undefined
    if (!isObject(parent) || !isObject(target)) throw new ConversionError(pointerTo(here, 'pointer'), `"${override.pointer}" names no schema in the document`)
    if (override.remove === true) {
      delete parent[name]
      // A removed property is no longer required by its object.
      const owner = segments.slice(0, -2).reduce<unknown>((node, segment) => isObject(node) ? node[segment] : undefined, copy)
      if (segments.at(-2) === 'properties' && isObject(owner) && Array.isArray(owner.required)) {
        owner.required = owner.required.filter(required => required !== name)
      }
      return
    }
    for (const [keyword, value] of Object.entries(override.merge ?? {})) {
      if (value === null) delete target[keyword]
      else target[keyword] = value
    }
  })
  return copy
}
