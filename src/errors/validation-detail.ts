import type { FastifySchemaValidationError } from 'fastify'
import type { FieldError } from './gateway-errors.js'

export type ValidationContext = 'body' | 'headers' | 'params' | 'querystring'

/** Where a value came from, named as FastAPI (and so fal) names it. */
const LOCATION: Record<ValidationContext, string> = {
  body: 'body',
  params: 'path',
  querystring: 'query',
  headers: 'header'
}

interface AjvError extends FastifySchemaValidationError {
  schemaPath: string
  parentSchema?: Record<string, unknown>
  data?: unknown
}

/**
 * Turns Ajv's errors into fal's `detail` list: one entry per field, with a message a person can
 * act on. Unions (`anyOf`) are reported once, as the choices they allow, not branch by branch.
 */
export function toFieldErrors (errors: FastifySchemaValidationError[], context: ValidationContext): FieldError[] {
  const root = LOCATION[context] ?? context
  const remaining = collapseUnions(errors as AjvError[])
  const seen = new Set<string>()
  const detail: FieldError[] = []
  for (const error of remaining) {
    const field = fieldError(error, root)
    const key = field.loc.join('\u0000')
    if (seen.has(key)) continue
    seen.add(key)
    detail.push(field)
  }
  return detail
}

function collapseUnions (errors: AjvError[]): AjvError[] {
  const unions = errors
    .filter(error => error.keyword === 'anyOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length)
  let kept = errors
  for (const union of unions) {
    if (!kept.includes(union)) continue
    const branchPrefix = `${union.schemaPath}/`
    const branches = (union.parentSchema?.anyOf ?? []) as Array<Record<string, unknown>>
    const objectBranch = branches.findIndex(branch => branch.type === 'object')
    const isObject = typeof union.data === 'object' && union.data !== null && !Array.isArray(union.data)
    const fromObjectBranch = (error: AjvError) => error.schemaPath.startsWith(`${branchPrefix}${objectBranch}/`)
    kept = kept.filter(error => error !== union && !(error.schemaPath.startsWith(branchPrefix) && !(isObject && objectBranch >= 0 && fromObjectBranch(error))))
    if (!(isObject && objectBranch >= 0)) {
      kept.push({ ...union, keyword: 'union', message: `must be ${describeChoices(branches)}` })
    }
  }
  return kept
}

function describeChoices (branches: Array<Record<string, unknown>>): string {
  const constants: unknown[] = []
  const shapes: string[] = []
  const visit = (schema: Record<string, unknown>) => {
    if ('const' in schema) constants.push(schema.const)
    else if (Array.isArray(schema.anyOf)) schema.anyOf.forEach(visit)
    else if (schema.type === 'object') shapes.push(`an object with ${Object.keys(schema.properties ?? {}).join(' and ')}`)
    else if (typeof schema.type === 'string') shapes.push(`a ${schema.type}`)
  }
  branches.forEach(visit)
  const choices = constants.length > 0 ? [`one of ${constants.map(value => JSON.stringify(value)).join(', ')}`] : []
  return [...choices, ...shapes].join(' or ')
}

function fieldError (error: AjvError, root: string): FieldError {
  const path = error.instancePath.split('/').slice(1).map(decodePointer)
  const loc: Array<string | number> = [root, ...path]
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'required':
      return { loc: [...loc, String(params.missingProperty)], msg: 'field required', type: 'value_error.missing' }
    case 'additionalProperties':
      return { loc: [...loc, String(params.additionalProperty)], msg: 'extra fields not permitted', type: 'value_error.extra' }
    case 'type':
      return { loc, msg: `must be ${article(String(params.type))}`, type: `type_error.${String(params.type)}` }
    case 'pattern':
      return { loc, msg: `has an invalid format: ${String(error.parentSchema?.description ?? `must match ${String(params.pattern)}`)}`, type: 'value_error.str.regex' }
    case 'union':
      return { loc, msg: error.message ?? 'is not one of the allowed values', type: 'value_error.union' }
    default:
      return { loc, msg: error.message ?? 'is invalid', type: `value_error.${error.keyword}` }
  }
}

function article (type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`
}

function decodePointer (segment: string): string | number {
  const decoded = segment.replace(/~1/g, '/').replace(/~0/g, '~')
  return /^\d+$/.test(decoded) ? Number(decoded) : decoded
}
