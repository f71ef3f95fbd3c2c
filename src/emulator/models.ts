import {
  checkFields, isBoolean, isInteger, isIntegerBetween, isNumber, isOneOf, isString,
  type Field, type FieldError, type Input
} from './validation.js'

/**
 * The fal apps the emulator plays, transcribed from their model pages (shared/seeds/000_*, 004_*).
 * Every other app id is answered like an unknown fal application.
 */
export interface EmulatedModel {
  id: string
  validate (input: Input): FieldError[]
  /** The image this input produces: size, and whether it has a real alpha channel. */
  image (input: Input): { width: number, height: number, alpha: boolean }
  /** Log lines emitted, evenly spaced, while the request is IN_PROGRESS. */
  logs: readonly string[]
  /** Whether `fal.stream` works (`POST /run/{app}/stream`); fal answers 404 for apps that do not stream. */
  streams: boolean
}

export const IMAGE_SIZE_PRESETS: Readonly<Record<string, { width: number, height: number }>> = {
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 }
}

// fal accepts sides up to 14142; the emulator renders real PNGs, so it draws larger sizes scaled
// down to MAX_SIDE (keeping their shape) and reports the size it drew.
const FAL_MAX_SIDE = 14142
export const MAX_SIDE = 4096
const sideCheck = isIntegerBetween(1, FAL_MAX_SIDE)
const presetCheck = isOneOf(Object.keys(IMAGE_SIZE_PRESETS))

const imageSize: Field = {
  check (value, loc) {
    if (typeof value === 'string') return presetCheck(value, loc)
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return presetCheck(value, loc)
    const size = value as Input
    return sideCheck(size.width, [...loc, 'width']) ?? sideCheck(size.height, [...loc, 'height'])
  }
}

function sizeOf (value: unknown): { width: number, height: number } {
  if (typeof value === 'string') return IMAGE_SIZE_PRESETS[value] ?? { width: 1024, height: 1024 }
  if (typeof value === 'object' && value !== null) {
    const { width, height } = value as { width: number, height: number }
    const scale = Math.min(1, MAX_SIDE / Math.max(width, height))
    return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) }
  }
  return { width: 1024, height: 1024 }
}

const illusionFields: Record<string, Field> = {
  image_url: { required: true, check: isString },
  prompt: { required: true, check: isString },
  negative_prompt: { check: isString },
  guidance_scale: { check: isNumber },
  controlnet_conditioning_scale: { check: isNumber },
  control_guidance_start: { check: isNumber },
  control_guidance_end: { check: isNumber },
  seed: { check: isInteger },
  scheduler: { check: isOneOf(['DPM++ Karras SDE', 'Euler']) },
  num_inference_steps: { check: isInteger },
  image_size: imageSize
}

const layerFields: Record<string, Field> = {
  prompt: { check: isString },
  negative_prompt: { check: isString },
  guidance_scale: { check: isNumber },
  num_inference_steps: { check: isInteger },
  seed: { check: isInteger },
  enable_safety_checker: { check: isBoolean }
}

const illusionDiffusion: EmulatedModel = {
  id: 'fal-ai/illusion-diffusion',
  validate: input => checkFields(input, illusionFields),
  image: input => ({ ...sizeOf(input.image_size), alpha: false }),
  // The emulator's streaming endpoint: progress events, then the output.
  streams: true,
  logs: [
    'Loading ControlNet QR monster weights',
    'Downloading pattern image',
    'Denoising: step 10/40',
    'Denoising: step 20/40',
    'Denoising: step 30/40',
    'Denoising: step 40/40',
    'Uploading result image'
  ]
}

const layerDiffusion: EmulatedModel = {
  id: 'fal-ai/layer-diffusion',
  validate: input => checkFields(input, layerFields),
  image: () => ({ width: 1024, height: 1024, alpha: true }),
  streams: false,
  logs: [
    'Loading SDXL with transparent VAE',
    'Denoising: step 5/20',
    'Denoising: step 10/20',
    'Denoising: step 15/20',
    'Denoising: step 20/20',
    'Decoding alpha channel',
    'Uploading result image'
  ]
}

export const MODELS: ReadonlyMap<string, EmulatedModel> = new Map([
  [illusionDiffusion.id, illusionDiffusion],
  [layerDiffusion.id, layerDiffusion]
])
