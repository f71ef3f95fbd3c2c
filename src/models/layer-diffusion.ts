import { Type, type Static } from '@sinclair/typebox'
import { image, safeInteger } from './shared-schemas.js'
import type { FalModel } from './model.js'

/** Transcribed from fal's page for fal-ai/layer-diffusion (shared/seeds/004_*.txt). */
export const LayerDiffusionInputSchema = Type.Object({
  prompt: Type.Optional(Type.String({
    default: '',
    description: 'The prompt to use for generating the image. Be as descriptive as possible for best results.'
  })),
  negative_prompt: Type.Optional(Type.String({
    default: 'text, watermark',
    description: 'The prompt to use for generating the negative image. Be as descriptive as possible for best results.'
  })),
  guidance_scale: Type.Optional(Type.Number({
    default: 8,
    description: 'The guidance scale for the model.'
  })),
  num_inference_steps: Type.Optional(safeInteger({
    default: 20,
    description: 'The number of inference steps for the model.'
  })),
  seed: Type.Optional(safeInteger({
    description: 'The same seed and the same prompt given to the same version of Stable Diffusion will output the same image every time.'
  })),
  enable_safety_checker: Type.Optional(Type.Boolean({
    default: true,
    description: 'If set to false, the safety checker will be disabled.'
  }))
}, { additionalProperties: false, title: 'LayerDiffusionInput' })
export type LayerDiffusionInput = Static<typeof LayerDiffusionInputSchema>

export const LayerDiffusionOutputSchema = Type.Object({
  image: image('The URL of the generated image.'),
  seed: Type.Integer({ description: 'The seed used to generate the image.' })
}, { title: 'LayerDiffusionOutput' })
export type LayerDiffusionOutput = Static<typeof LayerDiffusionOutputSchema>

export const layerDiffusion: FalModel = {
  id: 'fal-ai/layer-diffusion',
  title: 'Layer Diffusion XL',
  input: LayerDiffusionInputSchema,
  output: LayerDiffusionOutputSchema,
  // One image per job: the schema has no count.
  price: { unitPriceMicros: 30_000, unit: 'image', currency: 'USD' }
}
