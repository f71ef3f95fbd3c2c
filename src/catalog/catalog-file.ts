import { Type, type Static } from '@sinclair/typebox'

/** fal's price of an endpoint, as `GET /v1/models/pricing` answers it (`unit_price` sometimes a string). */
export const FalPriceSchema = Type.Object({
  unit_price: Type.Union([Type.Number({ minimum: 0 }), Type.String({ pattern: '^\\d+(\\.\\d+)?$' })]),
  unit: Type.String({ minLength: 1 }),
  currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' }))
})
export type FalPrice = Static<typeof FalPriceSchema>

export const PricingRulesSchema = Type.Object({
  countField: Type.Optional(Type.String()),
  sizeField: Type.Optional(Type.String()),
  durationField: Type.Optional(Type.String()),
  fallbackUnits: Type.Optional(Type.Number({ minimum: 0 }))
}, { additionalProperties: false })

/**
 * One change the operator makes to fal's document, applied before conversion: `merge` sets
 * keywords on the schema at `pointer` (a keyword set to null is removed), `remove` deletes it
 * (a removed property also leaves its object's `required`). `reason` is for the reviewer.
 */
export const SchemaOverrideSchema = Type.Object({
  pointer: Type.String({ pattern: '^(/[^/]*)+$', description: 'JSON pointer inside `openapi`' }),
  merge: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  remove: Type.Optional(Type.Literal(true)),
  reason: Type.Optional(Type.String())
}, { additionalProperties: false })
export type SchemaOverride = Static<typeof SchemaOverrideSchema>

/**
 * A catalog file, `models/<owner>/<alias…>.json`: fal's OpenAPI document for the endpoint as fal
 * published it, what fal's platform API said about it, and the operator's own changes, kept
 * apart so a refresh replaces fal's part and leaves the operator's.
 */
export const CatalogFileSchema = Type.Object({
  endpoint_id: Type.String(),
  /** fal's display name. */
  title: Type.Optional(Type.String()),
  /** Where and when the document was fetched. */
  source: Type.Optional(Type.String()),
  price: Type.Optional(FalPriceSchema),
  overrides: Type.Optional(Type.Object({
    title: Type.Optional(Type.String()),
    price: Type.Optional(FalPriceSchema),
    pricing: Type.Optional(PricingRulesSchema),
    schema: Type.Optional(Type.Array(SchemaOverrideSchema))
  }, { additionalProperties: false })),
  openapi: Type.Record(Type.String(), Type.Unknown())
}, { additionalProperties: false })
export type CatalogFile = Static<typeof CatalogFileSchema>
