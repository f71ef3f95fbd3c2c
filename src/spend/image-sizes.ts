import type { TSchema } from '@sinclair/typebox'

export interface ImageSize {
  width: number
  height: number
}

/** fal's named sizes (`image_size: "landscape_4_3"`), as its image models resolve them. */
export const IMAGE_SIZE_PRESETS: Readonly<Record<string, ImageSize>> = {
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 }
}

/**
 * fal's megapixel is 1024 × 1024 pixels (its per-megapixel models cost one unit for a square_hd
 * image), and each image is billed in whole megapixels, rounded up. This errs high: a 1024×768
 * image is reserved as one megapixel, and reconciliation with fal's billing events corrects it.
 */
export const PIXELS_PER_MEGAPIXEL = 1024 * 1024

export function billedMegapixels ({ width, height }: ImageSize): number {
  return Math.max(1, Math.ceil((width * height) / PIXELS_PER_MEGAPIXEL))
}

/**
 * The size a value of an `image_size`-like field asks for: a preset name, or `{ width, height }`
 * with either side missing filled from the schema's defaults (fal's ImageSize defaults to 512).
 * Undefined when it cannot be known.
 */
export function resolveImageSize (value: unknown, fieldSchema: TSchema | undefined): ImageSize | undefined {
  if (typeof value === 'string') return IMAGE_SIZE_PRESETS[value]
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const given = value as Record<string, unknown>
  const defaults = sizeDefaults(fieldSchema)
  const width = given.width ?? defaults.width
  const height = given.height ?? defaults.height
  return isSide(width) && isSide(height) ? { width, height } : undefined
}

function isSide (value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}

/** The `width`/`height` defaults of the object member of a field's schema (through anyOf/oneOf/allOf). */
function sizeDefaults (schema: TSchema | undefined): Partial<ImageSize> {
  if (schema === undefined) return {}
  const properties = (schema as { properties?: Record<string, TSchema> }).properties
  if (properties?.width !== undefined || properties?.height !== undefined) {
    return { width: properties.width?.default as number | undefined, height: properties.height?.default as number | undefined }
  }
  for (const keyword of ['anyOf', 'oneOf', 'allOf'] as const) {
    for (const member of (schema as Record<string, TSchema[] | undefined>)[keyword] ?? []) {
      const found = sizeDefaults(member)
      if (found.width !== undefined || found.height !== undefined) return found
    }
  }
  return {}
}
