import { Type, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/**
 * The body fal posts to a `fal_webhook` (docs.fal.ai, "Webhooks"). Fields fal may add later are
 * allowed; `payload` is whatever the model returned (null when it could not be serialized).
 */
export const FalDeliverySchema = Type.Object({
  request_id: Type.String({ minLength: 1, maxLength: 128 }),
  gateway_request_id: Type.Optional(Type.String()),
  status: Type.Union([Type.Literal('OK'), Type.Literal('ERROR')]),
  payload: Type.Optional(Type.Unknown()),
  error: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  payload_error: Type.Optional(Type.Union([Type.String(), Type.Null()]))
})
export type FalDelivery = Static<typeof FalDeliverySchema>

const check = TypeCompiler.Compile(FalDeliverySchema)

/** The parsed delivery, or the reason it is not one. */
export function parseFalDelivery (raw: Buffer): FalDelivery | string {
  let body: unknown
  try {
    body = JSON.parse(raw.toString('utf8'))
  } catch {
    return 'not JSON'
  }
  if (!check.Check(body)) {
    const first = check.Errors(body).First()
    return `${first?.path === '' ? 'body' : first?.path ?? 'body'}: ${first?.message ?? 'invalid'}`
  }
  return body
}
