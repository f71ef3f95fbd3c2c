import { Type, type TSchema } from '@sinclair/typebox'
import { ConversionError, pointerTo } from './conversion-error.js'
import { fitsSchema } from './default-check.js'

type Json = Record<string, unknown>

/**
 * `input`: what a client sends, so objects with declared properties refuse unknown ones (a typo
 * is refused here instead of being ignored by fal after it was paid for). `output`: what fal
 * answers, left open.
 */
export type Side = 'input' | 'output'

/** Keywords that change what is valid and that the converter does not carry over: refused, never ignored. */
const REFUSED = ['not', 'if', 'then', 'else', 'patternProperties', 'propertyNames', 'dependentRequired', 'dependentSchemas', 'dependencies', 'contains', 'unevaluatedProperties', 'unevaluatedItems', '$defs', 'definitions', '$dynamicRef']

/** Formats the gateway's validator knows and checks as fal means them; others (`uuid4`…) stay plain strings. */
const FORMATS = new Set(['date', 'time', 'date-time', 'duration', 'uri', 'uri-reference', 'url', 'email', 'hostname', 'ipv4', 'ipv6', 'uuid', 'binary', 'byte'])

const SAFE = { minimum: Number.MIN_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** fal's descriptions are Python docstrings: indented, with blank lines around. */
function tidyDescription (text: string): string {
  return text.trim().replace(/\n[ \t]+/g, '\n')
}

/**
 * Turns the JSON schemas of one fal OpenAPI document into TypeBox, `$ref`s inlined, so routes,
 * validation, response schemas and `/docs` all come from it. Everything fal's ~770 documents use
 * is understood (see shared/fal-openapi/README.md); a construct it cannot carry over faithfully is
 * refused with the JSON pointer of the place, never silently loosened.
 */
export class OpenApiConverter {
  readonly #document: Json
  readonly #base: string
  readonly #resolving = new Set<string>()

  /** `base`: the pointer of the document inside its catalog file, so errors name the file's place. */
  constructor (document: Json, base = '') {
    this.#document = document
    this.#base = base
  }

  /** Converts the schema found at `pointer` (relative to the document). */
  convertAt (pointer: string, side: Side): TSchema {
    return this.convert(this.resolvePointer(pointer), this.#base + pointer, side)
  }

  resolvePointer (pointer: string): unknown {
    let node: unknown = this.#document
    for (const raw of pointer.split('/').slice(1)) {
      const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~')
      if (!isObject(node) && !Array.isArray(node)) return undefined
      node = (node as Json)[segment]
    }
    return node
  }

  convert (schema: unknown, at: string, side: Side, composite = false): TSchema {
    if (schema === true) return Type.Unknown()
    if (schema === false) return Type.Never()
    if (!isObject(schema)) throw new ConversionError(at, 'a schema must be an object')
    const refused = REFUSED.find(keyword => keyword in schema)
    if (refused !== undefined) throw new ConversionError(pointerTo(at, refused), `the keyword "${refused}" is not supported`)

    if (typeof schema.$ref === 'string') return this.#inlineRef(schema, at, side, composite)
    if ('$ref' in schema) throw new ConversionError(pointerTo(at, '$ref'), '$ref must be a string')
    if (Array.isArray(schema.allOf)) {
      if (schema.allOf.length !== 1) throw new ConversionError(pointerTo(at, 'allOf'), `allOf with ${schema.allOf.length} members is not supported (only a single wrapped schema)`)
      const { allOf, ...siblings } = schema
      const [only] = allOf as unknown[]
      if (!isObject(only)) throw new ConversionError(pointerTo(pointerTo(at, 'allOf'), 0), 'a schema must be an object')
      return this.convert({ ...only, ...siblings }, at, side, composite)
    }

    const nullable = schema.nullable === true
    let core = this.#core(schema, at, side, composite)
    if (nullable) core = Type.Union([core, Type.Null()])
    return this.#annotate(core, schema, composite)
  }

  /** `$ref` with its siblings (title, default, description…) laid over the target, as fal means it. */
  #inlineRef (schema: Json, at: string, side: Side, composite: boolean): TSchema {
    const ref = schema.$ref as string
    if (!ref.startsWith('#/')) throw new ConversionError(pointerTo(at, '$ref'), `only references inside the document are supported, not "${ref.slice(0, 100)}"`)
    const target = this.resolvePointer(ref.slice(1))
    if (!isObject(target)) throw new ConversionError(pointerTo(at, '$ref'), `"${ref.slice(0, 200)}" points at no schema in the document`)
    if (this.#resolving.has(ref)) throw new ConversionError(pointerTo(at, '$ref'), `"${ref.slice(0, 200)}" refers to itself; recursive schemas are not supported`)
    const { $ref, ...siblings } = schema
    this.#resolving.add(ref)
    try {
      return this.convert({ ...target, ...siblings }, this.#base + ref.slice(1), side, composite)
    } finally {
      this.#resolving.delete(ref)
    }
  }

  #core (schema: Json, at: string, side: Side, composite: boolean): TSchema {
    const union = Array.isArray(schema.anyOf) ? 'anyOf' : Array.isArray(schema.oneOf) ? 'oneOf' : undefined
    if (union !== undefined) {
      const members = (schema[union] as unknown[]).map((member, index) => this.convert(member, pointerTo(pointerTo(at, union), index), side, true))
      const hasNull = members.some(member => member.type === 'null')
      const others = members.filter(member => member.type !== 'null')
      if (others.length === 0) return Type.Null()
      return Type.Union(hasNull ? [...others, Type.Null()] : others)
    }
    if ('const' in schema) return literal(schema.const, pointerTo(at, 'const'))
    if (Array.isArray(schema.enum)) {
      if (schema.enum.length === 0) throw new ConversionError(pointerTo(at, 'enum'), 'an empty enum admits nothing')
      const values = schema.enum.map((value, index) => literal(value, pointerTo(pointerTo(at, 'enum'), index)))
      return values.length === 1 ? values[0] as TSchema : Type.Union(values)
    }
    const type = schema.type ?? (isObject(schema.properties) ? 'object' : 'items' in schema || 'prefixItems' in schema ? 'array' : undefined)
    if (Array.isArray(type)) {
      return Type.Union(type.map(one => this.#core({ ...schema, type: one }, at, side, true)))
    }
    switch (type) {
      case undefined: return Type.Unknown()
      case 'string': return this.#string(schema, at)
      case 'number': return Type.Number(numberBounds(schema, at))
      case 'integer': return Type.Integer({ ...SAFE, ...numberBounds(schema, at) })
      case 'boolean': return Type.Boolean()
      case 'null': return Type.Null()
      case 'array': return this.#array(schema, at, side, composite)
      case 'object': return this.#object(schema, at, side, composite)
      default: throw new ConversionError(pointerTo(at, 'type'), `unknown type ${JSON.stringify(type).slice(0, 100)}`)
    }
  }

  #string (schema: Json, at: string): TSchema {
    const options: Json = pick(schema, ['minLength', 'maxLength'])
    if (typeof schema.pattern === 'string') {
      try {
        // The gateway's validator compiles patterns with the `u` flag.
        RegExp(schema.pattern, 'u')
      } catch {
        throw new ConversionError(pointerTo(at, 'pattern'), 'the pattern is not a regular expression this validator can run')
      }
      options.pattern = schema.pattern
    }
    const format = schema.format === 'uuid4' ? 'uuid' : schema.format
    if (typeof format === 'string' && FORMATS.has(format)) options.format = format
    return Type.String(options)
  }

  #array (schema: Json, at: string, side: Side, composite: boolean): TSchema {
    const options = pick(schema, ['minItems', 'maxItems', 'uniqueItems'])
    const items = schema.items
    // A quirk of some fal documents: a tuple written as `items: { "0": {...}, "1": {...} }`.
    const indexedItems = isObject(items) && Object.keys(items).length > 0 && Object.keys(items).every(key => /^\d+$/.test(key))
    const prefix = Array.isArray(schema.prefixItems)
      ? schema.prefixItems.map((item, index) => this.convert(item, pointerTo(pointerTo(at, 'prefixItems'), index), side, composite))
      : Array.isArray(items)
        ? items.map((item, index) => this.convert(item, pointerTo(pointerTo(at, 'items'), index), side, composite))
        : indexedItems
          ? Object.keys(items).sort((a, b) => Number(a) - Number(b)).map(key => this.convert(items[key], pointerTo(pointerTo(at, 'items'), key), side, composite))
          : undefined
    if (prefix === undefined) {
      return Type.Array(items === undefined ? Type.Unknown() : this.convert(items, pointerTo(at, 'items'), side, composite), options)
    }
    const rest = Array.isArray(schema.prefixItems) && items !== undefined ? this.convert(items, pointerTo(at, 'items'), side, composite) : undefined
    // Draft-07 spelling of a tuple, as the gateway's validator reads it.
    return Type.Unsafe({ type: 'array', items: prefix, ...(rest === undefined ? {} : { additionalItems: rest }), ...options })
  }

  #object (schema: Json, at: string, side: Side, composite: boolean): TSchema {
    const declared = isObject(schema.properties) ? schema.properties : {}
    const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : [])
    const order = Array.isArray(schema['x-fal-order-properties']) ? schema['x-fal-order-properties'].map(String) : []
    const names = [...order.filter(name => name in declared), ...Object.keys(declared).filter(name => !order.includes(name))]
    const properties: Record<string, TSchema> = {}
    for (const name of names) {
      const property = this.convert(declared[name], pointerTo(pointerTo(at, 'properties'), name), side, composite)
      properties[name] = required.has(name) ? property : Type.Optional(property)
    }
    const options: Json = pick(schema, ['minProperties', 'maxProperties'])
    if (isObject(schema.additionalProperties)) {
      options.additionalProperties = this.convert(schema.additionalProperties, pointerTo(at, 'additionalProperties'), side, composite)
    } else if (typeof schema.additionalProperties === 'boolean') {
      options.additionalProperties = schema.additionalProperties
    } else if (side === 'input' && names.length > 0) {
      options.additionalProperties = false
    }
    return Type.Object(properties, options)
  }

  /**
   * Title, description, examples, deprecated; the default only when it is itself valid, and only
   * where the validator applies it: inside a union branch it would never be filled in (and Ajv's
   * strict mode refuses it there), so it stays in the description for the reader.
   */
  #annotate (core: TSchema, schema: Json, composite: boolean): TSchema {
    const annotated: Json = { ...core }
    if (typeof schema.title === 'string') annotated.title = schema.title
    if (typeof schema.description === 'string') annotated.description = tidyDescription(schema.description)
    if (Array.isArray(schema.examples)) annotated.examples = schema.examples
    if (schema.deprecated === true) annotated.deprecated = true
    // A default that fails its own schema would be filled in and then refuse a field nobody sent.
    if ('default' in schema && fitsSchema(core, schema.default)) {
      if (!composite) annotated.default = schema.default
      else annotated.description = [annotated.description, `Default value: ${JSON.stringify(schema.default)}`].filter(Boolean).join(' ')
    }
    return annotated as TSchema
  }
}

function literal (value: unknown, at: string): TSchema {
  if (value === null) return Type.Null()
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return Type.Literal(value)
  throw new ConversionError(at, 'only strings, numbers, booleans and null can be constants')
}

function numberBounds (schema: Json, at: string): Json {
  const bounds = pick(schema, ['minimum', 'maximum', 'multipleOf'])
  for (const [key, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    const value = schema[key]
    if (typeof value === 'number') bounds[key] = value
    else if (value === true) {
      // OpenAPI 3.0 spelling: a flag on minimum/maximum.
      if (typeof schema[bound] !== 'number') throw new ConversionError(pointerTo(at, key), `${key}: true needs a numeric ${bound}`)
      bounds[key] = schema[bound]
      delete bounds[bound]
    }
  }
  for (const [key, value] of Object.entries(bounds)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ConversionError(pointerTo(at, key), `${key} must be a number`)
  }
  if (typeof bounds.multipleOf === 'number' && bounds.multipleOf <= 0) throw new ConversionError(pointerTo(at, 'multipleOf'), 'multipleOf must be greater than 0')
  return bounds
}

function pick (schema: Json, keys: readonly string[]): Json {
  const picked: Json = {}
  for (const key of keys) {
    if (schema[key] !== undefined) picked[key] = schema[key]
  }
  return picked
}
