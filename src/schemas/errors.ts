import { Type, type Static } from '@sinclair/typebox'

export const FieldErrorSchema = Type.Object({
  loc: Type.Array(Type.Union([Type.String(), Type.Integer()])),
  msg: Type.String(),
  type: Type.String()
}, { title: 'FieldError' })

/** The body of every error the gateway answers with. */
export const ErrorSchema = Type.Object({
  statusCode: Type.Integer(),
  code: Type.String({ description: 'Stable machine-readable error code, e.g. VALIDATION_FAILED, RATE_LIMITED.' }),
  error: Type.String({ description: 'The HTTP status text.' }),
  message: Type.String(),
  detail: Type.Optional(Type.Array(FieldErrorSchema, { description: 'Field errors, as fal reports them (422 only).' }))
}, { $id: 'GatewayError', title: 'GatewayError' })
export type ErrorBody = Static<typeof ErrorSchema>

export const ErrorRef = Type.Ref(ErrorSchema)

/** Error responses a route may give, for its schema and so the OpenAPI document. */
export function errorResponses (...codes: number[]) {
  return Object.fromEntries(codes.map(code => [code, ErrorRef]))
}
