import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { TSchema } from '@sinclair/typebox'

// The gateway's own validator settings, so a default is judged as a request would be.
const ajv = new Ajv({ strict: false, allErrors: false, coerceTypes: false, useDefaults: false })
addFormats.default(ajv)

/**
 * Whether a default given in a fal document is valid for its own schema. fal's documents hold
 * defaults of the wrong type (`null` for a string, a number for an integer with bounds); the
 * gateway fills defaults in before validating, so such a default would refuse an untouched field.
 */
export function fitsSchema (schema: TSchema, value: unknown): boolean {
  const fits = ajv.validate(schema, value)
  // Each schema is checked once at start-up: nothing to keep compiled.
  ajv.removeSchema(schema)
  return fits
}
