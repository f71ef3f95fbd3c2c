/**
 * Light input checks worded like fal's (FastAPI/Pydantic v1) 422 answers, so the official client's
 * `ValidationError.fieldErrors` reads them. Unknown fields are ignored, as fal does.
 */
export interface FieldError {
  loc: Array<string | number>
  msg: string
  type: string
}

export type Input = Record<string, unknown>

export function isInput (body: unknown): body is Input {
  return typeof body === 'object' && body !== null && !Array.isArray(body)
}

export function notAnObject (): FieldError[] {
  return [{ loc: ['body'], msg: 'value is not a valid dict', type: 'type_error.dict' }]
}

type Check = (value: unknown, loc: Array<string | number>) => FieldError | undefined

export const isString: Check = (value, loc) =>
  typeof value === 'string' ? undefined : { loc, msg: 'str type expected', type: 'type_error.str' }

export const isNumber: Check = (value, loc) =>
  typeof value === 'number' && Number.isFinite(value) ? undefined : { loc, msg: 'value is not a valid float', type: 'type_error.float' }

export const isInteger: Check = (value, loc) =>
  Number.isSafeInteger(value) ? undefined : { loc, msg: 'value is not a valid integer', type: 'type_error.integer' }

export const isBoolean: Check = (value, loc) =>
  typeof value === 'boolean' ? undefined : { loc, msg: 'value could not be parsed to a boolean', type: 'type_error.bool' }

export function isOneOf (options: readonly string[]): Check {
  return (value, loc) => typeof value === 'string' && options.includes(value)
    ? undefined
    : { loc, msg: `value is not a valid enumeration member; permitted: ${options.map(o => `'${o}'`).join(', ')}`, type: 'type_error.enum' }
}

export function isIntegerBetween (min: number, max: number): Check {
  return (value, loc) => {
    const notInteger = isInteger(value, loc)
    if (notInteger !== undefined) return notInteger
    if ((value as number) < min) return { loc, msg: `ensure this value is greater than or equal to ${min}`, type: 'value_error.number.not_ge' }
    if ((value as number) > max) return { loc, msg: `ensure this value is less than or equal to ${max}`, type: 'value_error.number.not_le' }
    return undefined
  }
}

export interface Field {
  required?: boolean
  check: Check
}

/** Checks `input` against `fields`; an empty list means valid. */
export function checkFields (input: Input, fields: Record<string, Field>): FieldError[] {
  const errors: FieldError[] = []
  for (const [name, field] of Object.entries(fields)) {
    const value = input[name]
    if (value === undefined || value === null) {
      if (field.required === true) errors.push({ loc: ['body', name], msg: 'field required', type: 'value_error.missing' })
      continue
    }
    const error = field.check(value, ['body', name])
    if (error !== undefined) errors.push(error)
  }
  return errors
}
