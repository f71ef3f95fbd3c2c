import type { PricedEndpoint, SubmitPrice } from './submit-price.js'
import { billedMegapixels } from './image-sizes.js'
import { ceilMicros } from './money.js'
import { normaliseUnit } from './price-units.js'

interface ProducedFile {
  width?: unknown
  height?: unknown
}

/**
 * The price of what a completed job actually produced, for settling its reservation: the images
 * returned (`images: [...]` or a single `image`) and their sizes, the videos returned. Where the
 * output cannot say (compute seconds, durations, images without sizes) the submit's estimate
 * stands for it. fal's billing events, where available, are the final word.
 */
export function priceOutput (endpoint: PricedEndpoint, output: unknown, estimate: SubmitPrice): number {
  return priceProduced(endpoint, output, estimate.quantity / estimate.outputs) ?? estimate.micros
}

/**
 * The same without the submit's estimate (a result fetched on another replica than the submit):
 * undefined where the output cannot say, so the reservation stands. An image without a size
 * counts `megapixelsPerImage` when given, else makes the whole price unknown.
 */
export function priceProduced (endpoint: PricedEndpoint, output: unknown, megapixelsPerImage?: number): number | undefined {
  const price = endpoint.price
  if (price === undefined || typeof output !== 'object' || output === null) return undefined
  const result = output as Record<string, unknown>
  switch (normaliseUnit(price.unit)) {
    case 'image': {
      const images = filesOf(result, 'images', 'image')
      return images === undefined ? undefined : ceilMicros(price.unitPriceMicros * images.length)
    }
    case 'video': {
      const videos = filesOf(result, 'videos', 'video')
      return videos === undefined ? undefined : ceilMicros(price.unitPriceMicros * videos.length)
    }
    case 'megapixel': {
      const images = filesOf(result, 'images', 'image')
      if (images === undefined) return undefined
      let megapixels = 0
      for (const { width, height } of images) {
        if (isSide(width) && isSide(height)) megapixels += billedMegapixels({ width, height })
        else if (megapixelsPerImage !== undefined) megapixels += megapixelsPerImage
        else return undefined
      }
      return ceilMicros(price.unitPriceMicros * megapixels)
    }
    default:
      return undefined
  }
}

function filesOf (result: Record<string, unknown>, many: string, one: string): ProducedFile[] | undefined {
  const list = result[many]
  if (Array.isArray(list)) return list.filter((item): item is ProducedFile => typeof item === 'object' && item !== null)
  const single = result[one]
  if (typeof single === 'object' && single !== null) return [single as ProducedFile]
  return undefined
}

function isSide (value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}
