import { Type, type Static } from '@sinclair/typebox'
import { fileUrl, image, imageSize, safeInteger } from './shared-schemas.js'
import type { FalModel } from './model.js'

/** Transcribed from fal's page for fal-ai/illusion-diffusion (shared/seeds/000_*.txt). */
export const IllusionDiffusionInputSchema = Type.Object({
  image_url: fileUrl('Input image url.'),
  prompt: Type.String({
    description: 'The prompt to use for generating the image. Be as descriptive as possible for best results.'
  }),
  negative_prompt: Type.Optional(Type.String({
    default: '',
    description: "The negative prompt to use. Use it to address details that you don't want in the image. This could be colors, objects, scenery and even the small details (e.g. moustache, blurry, low resolution)."
  })),
  guidance_scale: Type.Optional(Type.Number({
    default: 7.5,
    description: 'The CFG (Classifier Free Guidance) scale is a measure of how close you want the model to stick to your prompt when looking for a related image to show you.'
  })),
  controlnet_conditioning_scale: Type.Optional(Type.Number({
    default: 1,
    description: 'The scale of the ControlNet.'
  })),
  control_guidance_start: Type.Optional(Type.Number()),
  control_guidance_end: Type.Optional(Type.Number({ default: 1 })),
  seed: Type.Optional(safeInteger({
    description: 'Seed of the generated Image. It will be the same value of the one passed in the input or the randomly generated that was used in case none was passed.'
  })),
  scheduler: Type.Optional(Type.Union([Type.Literal('DPM++ Karras SDE'), Type.Literal('Euler')], {
    default: 'Euler',
    description: 'Scheduler / sampler to use for the image denoising process.'
  })),
  num_inference_steps: Type.Optional(safeInteger({
    default: 40,
    description: 'Increasing the amount of steps tells Stable Diffusion that it should take more steps to generate your final result which can increase the amount of detail in your image.'
  })),
  image_size: Type.Optional(imageSize(
    'The size of the generated image. You can choose between some presets or custom height and width that must be multiples of 8.'
  ))
}, { additionalProperties: false, title: 'IllusionDiffusionInput' })
export type IllusionDiffusionInput = Static<typeof IllusionDiffusionInputSchema>

export const IllusionDiffusionOutputSchema = Type.Object({
  image: image('The generated image file info.'),
  seed: Type.Integer({
    description: 'Seed of the generated Image. It will be the same value of the one passed in the input or the randomly generated that was used in case none was passed.'
  })
}, { title: 'IllusionDiffusionOutput' })
export type IllusionDiffusionOutput = Static<typeof IllusionDiffusionOutputSchema>

export const illusionDiffusion: FalModel = {
  id: 'fal-ai/illusion-diffusion',
  title: 'Illusion Diffusion',
  input: IllusionDiffusionInputSchema,
  output: IllusionDiffusionOutputSchema,
  // fal bills it per compute second, which the input cannot tell: PRICE_FALLBACK_UNITS estimates it (30 s).
  price: { unitPriceMicros: 1_110, unit: 'compute seconds', currency: 'USD' }
}
