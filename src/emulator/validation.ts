/**
 * fal's 422 answers (FastAPI/Pydantic v1): a `detail` list of fields, which the official client's
 * `ValidationError.fieldErrors` reads. Inputs are checked against the endpoint's document (models.ts).
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

export interface Field {
  required?: boolean
  check: Check
}

/** Checks `input` against `fields` (the storage API's small bodies); an empty list means valid. */
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
