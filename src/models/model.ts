import type { TObject } from '@sinclair/typebox'
import type { EndpointPrice, PricingRules } from '../catalog/catalog-endpoint.js'

/** What the gateway needs to know to serve one fal model. */
export interface FalModel {
  /** fal's app id, `owner/alias`: the path under the queue host. */
  id: string
  title: string
  input: TObject
  output: TObject
  /** What fal charges per unit (the catalog's field of the same name): submits are priced from it. */
  price?: EndpointPrice
  /** Where the billed quantity is read from the input, when the unit alone cannot say. */
  pricing?: PricingRules
}
