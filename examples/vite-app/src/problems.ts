import { ApiError, ValidationError } from '@fal-ai/client'

/** What went wrong, in words for the person at the form, and which fields to mark. */
export interface Problem {
  message: string
  fields: Record<string, string>
  kind: 'invalid' | 'slow-down' | 'refused' | 'unreachable' | 'failed'
}

/**
 * The gateway answers in fal's shapes, so the client's own error classes carry everything:
 * a 422 is a ValidationError with field errors (`loc` ends with the field's name), any other
 * refusal an ApiError whose body is `{ code, message }` with a message meant to be shown.
 */
export function problemOf (error: unknown, proxyUrl: string): Problem {
  if (error instanceof ValidationError) {
    const fields: Record<string, string> = {}
    for (const field of error.fieldErrors) {
      // ['body', 'image_size', 'width']: the form shows size errors under the size inputs.
      const name = field.loc.includes('image_size') ? 'image_size' : String(field.loc.at(-1))
      fields[name] = [fields[name], `${String(field.loc.at(-1))}: ${field.msg}`].filter(Boolean).join('; ')
    }
    return { kind: 'invalid', message: 'Some fields need a fix before this can run.', fields }
  }
  if (error instanceof ApiError) {
    const body = error.body as { code?: string, message?: string } | undefined
    const said = body?.message ?? error.message
    if (error.status === 429) return { kind: 'slow-down', message: `Slow down: ${said}.`, fields: {} }
    if (error.status === 401 || error.status === 403) return { kind: 'refused', message: `The gateway refused this: ${said}`, fields: {} }
    return { kind: 'failed', message: `Something went wrong (${error.status}): ${said}`, fields: {} }
  }
  if (error instanceof TypeError) {
    return { kind: 'unreachable', message: `The gateway at ${proxyUrl} cannot be reached: is \`npm run dev\` running?`, fields: {} }
  }
  return { kind: 'failed', message: error instanceof Error ? error.message : String(error), fields: {} }
}
