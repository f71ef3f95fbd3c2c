import type { TObject, TSchema } from '@sinclair/typebox'

/**
 * One fal endpoint the gateway serves, as loaded from the catalog (`models/<owner>/<alias…>.json`).
 * The catalog is the allowlist: an endpoint not in it is refused on every route.
 */
export interface CatalogEndpoint {
  /** fal's endpoint id, the path a submit goes to: `fal-ai/flux/dev`. */
  id: string
  /** `owner/alias`, the path status, result and cancel use: `fal-ai/flux`. */
  appId: string
  title: string
  /** The request schema, converted from fal's OpenAPI document with the operator's overrides. */
  input: TObject
  /** The result schema, converted from the same document. */
  output: TSchema
  /** What fal charges for one unit of this endpoint; absent when the catalog has no price. */
  price?: EndpointPrice
  /** How the billed quantity is read from a validated input, where the unit alone cannot say. */
  pricing?: PricingRules
  /** The catalog file this endpoint came from, for messages. */
  file: string
}

/**
 * fal's price for an endpoint (`GET /v1/models/pricing`), or the operator's override. Money is an
 * integer of micro-units of `currency` (1 USD = 1,000,000), never a float that sums badly.
 */
export interface EndpointPrice {
  unitPriceMicros: number
  /** fal's unit as free text: `image`, `images`, `megapixels`, `seconds`, `videos`, `compute seconds`, … */
  unit: string
  currency: string
}

/** Operator hints for pricing, kept in the catalog file; each has a default read from the input schema. */
export interface PricingRules {
  /** Input field holding the number of outputs (default: `num_images` when the schema has it, else 1). */
  countField?: string
  /** Input field holding the output size, a preset name or `{width, height}` (default: `image_size`). */
  sizeField?: string
  /** Input field holding a duration in seconds (default: `duration` when the schema has it). */
  durationField?: string
  /** Units assumed when the input cannot say (compute seconds, per-request units). */
  fallbackUnits?: number
}
