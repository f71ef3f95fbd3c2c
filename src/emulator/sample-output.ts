import { imageFile, standInFile } from './image-files.js'
import type { Job } from './jobs.js'

type Schema = Record<string, unknown>

interface Context {
  job: Job
  baseUrl: string
  /** Files handed out so far, so each gets its own name. */
  files: number
}

const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value)

/** fal's File and Image objects: a `url` with a `content_type` beside it. */
function isFileSchema (schema: Schema): boolean {
  const properties = isObject(schema.properties) ? schema.properties : {}
  return 'url' in properties && ('content_type' in properties || 'file_name' in properties)
}

function fileKind (schema: Schema, name: string): 'image' | 'wav' | 'mp4' | 'bin' {
  const properties = schema.properties as Schema
  const hint = `${name} ${String(schema.title ?? '')}`.toLowerCase()
  if ('width' in properties || 'height' in properties || hint.includes('image')) return 'image'
  if (hint.includes('audio') || hint.includes('speech') || hint.includes('voice')) return 'wav'
  if (hint.includes('video')) return 'mp4'
  return 'bin'
}

function file (schema: Schema, name: string, context: Context): Record<string, unknown> {
  const index = context.files++
  const kind = fileKind(schema, name)
  const made = kind === 'image' ? imageFile(context.job, context.baseUrl, index) : standInFile(context.job, context.baseUrl, index, kind)
  // Only what the schema names: fal's Image of one model has no width, another's has file_data.
  const properties = schema.properties as Schema
  return Object.fromEntries(Object.entries(made).filter(([key]) => key in properties))
}

function number (schema: Schema, integer: boolean): number {
  const step = typeof schema.multipleOf === 'number' ? schema.multipleOf : integer ? 1 : 0
  const low = typeof schema.minimum === 'number' ? schema.minimum : typeof schema.exclusiveMinimum === 'number' ? schema.exclusiveMinimum : 0
  const high = typeof schema.maximum === 'number' ? schema.maximum : typeof schema.exclusiveMaximum === 'number' ? schema.exclusiveMaximum : low + 2 * Math.max(step, 1)
  if (step === 0) return (low + high) / 2
  let value = Math.ceil(low / step) * step
  if (value === schema.exclusiveMinimum) value += step
  return value
}

function sample (schema: unknown, name: string, context: Context): unknown {
  if (!isObject(schema)) return null
  if ('const' in schema) return schema.const
  const union = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined
  if (Array.isArray(union)) {
    const chosen = union.find(member => member.type !== 'null') ?? union[0]
    return sample(chosen, name, context)
  }
  if (name === 'seed' && (schema.type === 'integer' || schema.type === 'number')) return context.job.seed
  switch (schema.type) {
    case 'string': {
      const text = `emulated ${name}`.padEnd(typeof schema.minLength === 'number' ? schema.minLength : 0, '.')
      return typeof schema.maxLength === 'number' ? text.slice(0, schema.maxLength) : text
    }
    case 'integer': return number(schema, true)
    case 'number': return number(schema, false)
    case 'boolean': return false
    case 'null': return null
    case 'array': {
      if (Array.isArray(schema.items)) return schema.items.map((item, index) => sample(item, `${name}.${index}`, context))
      const wanted = name === 'images' ? context.job.images ?? 1 : 1
      const count = Math.min(Math.max(wanted, typeof schema.minItems === 'number' ? schema.minItems : 0), typeof schema.maxItems === 'number' ? schema.maxItems : Infinity)
      return Array.from({ length: count }, () => sample(schema.items, name, context))
    }
    case 'object': {
      if (isFileSchema(schema)) return file(schema, name, context)
      const properties = isObject(schema.properties) ? schema.properties : {}
      return Object.fromEntries(Object.entries(properties).map(([key, property]) => [key, sample(property, key, context)]))
    }
    default: return null
  }
}

/**
 * A result that matches the endpoint's output schema: every field of it, images as real PNGs of
 * the size asked for (as many as `num_images`), audio and video as stand-in files, numbers inside
 * their bounds, `seed` the job's.
 */
export function resultOf (job: Job, baseUrl: string): unknown {
  return sample(job.model.output, '', { job, baseUrl, files: 0 })
}
