import type { TObject } from '@sinclair/typebox'
import type { PricedEndpoint } from '../../src/spend/submit-price.js'

/**
 * The parts of fal's input schemas that pricing reads, as they are in fal's OpenAPI documents
 * (shared/fal-openapi/*.json, `$ref`s inlined as the catalog serves them).
 */
const ImageSize = {
  type: 'object',
  properties: {
    width: { type: 'integer', maximum: 14142, exclusiveMinimum: 0, default: 512 },
    height: { type: 'integer', maximum: 14142, exclusiveMinimum: 0, default: 512 }
  }
}
const presets = { type: 'string', enum: ['square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9'] }

const schema = (properties: Record<string, unknown>): TObject => ({ type: 'object', properties } as unknown as TObject)

/** fal-ai__flux__dev.json, FluxDevInput. */
export const FLUX_DEV_INPUT = schema({
  prompt: { type: 'string' },
  num_images: { type: 'integer', minimum: 1, maximum: 4, default: 1 },
  image_size: { anyOf: [ImageSize, presets], default: 'landscape_4_3' }
})

/** fal-ai__illusion-diffusion.json, IllusionDiffusionInput. */
export const ILLUSION_INPUT = schema({
  prompt: { type: 'string' },
  image_url: { type: 'string' },
  image_size: { anyOf: [ImageSize, presets], default: 'square_hd' }
})

/** fal-ai__layer-diffusion.json, LayerDiffusionInput: no size, no count. */
export const LAYER_INPUT = schema({
  prompt: { type: 'string', default: '' },
  num_inference_steps: { type: 'integer', minimum: 10, maximum: 40, default: 20 }
})

/**
 * Prices used by the tests. flux/dev: 0.025 USD per `megapixels`, as fal's pricing API answered
 * (shared/fal-openapi/platform-api-shapes.md). The seed models' prices are not in the shared
 * documents (fal's page for illusion-diffusion says only "$0 per compute seconds"), so the tests
 * state their own: illusion-diffusion 0.00111 USD per compute second, layer-diffusion 0.03 USD
 * per image.
 */
export const FLUX_DEV: PricedEndpoint = {
  id: 'fal-ai/flux/dev',
  input: FLUX_DEV_INPUT,
  price: { unitPriceMicros: 25_000, unit: 'megapixels', currency: 'USD' }
}
export const ILLUSION: PricedEndpoint = {
  id: 'fal-ai/illusion-diffusion',
  input: ILLUSION_INPUT,
  price: { unitPriceMicros: 1_110, unit: 'compute seconds', currency: 'USD' }
}
export const LAYER: PricedEndpoint = {
  id: 'fal-ai/layer-diffusion',
  input: LAYER_INPUT,
  price: { unitPriceMicros: 30_000, unit: 'image', currency: 'USD' }
}
