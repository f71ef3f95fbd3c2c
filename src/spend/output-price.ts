import type { PricedEndpoint, SubmitPrice } from './submit-price.js'
import { billedMegapixels } from './image-sizes.js'
import { ceilMicros } from './money.js'

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
  const unitPriceMicros = endpoint.price?.unitPriceMicros
  if (unitPriceMicros === undefined || typeof output !== 'object' || output === null) return estimate.micros
  const result = output as Record<string, unknown>
  switch (estimate.unit) {
    case 'image': {
      const images = filesOf(result, 'images', 'image')
      return images === undefined ? estimate.micros : ceilMicros(unitPriceMicros * images.length)
    }
    case 'video': {
      const videos = filesOf(result, 'videos', 'video')
      return videos === undefined ? estimate.micros : ceilMicros(unitPriceMicros * videos.length)
    }
    case 'megapixel': {
      const images = filesOf(result, 'images', 'image')
      if (images === undefined) return estimate.micros
      const estimatedPerImage = estimate.quantity / estimate.outputs
      const megapixels = images.reduce<number>((sum, image) => {
        const { width, height } = image
        return sum + (isSide(width) && isSide(height) ? billedMegapixels({ width, height }) : estimatedPerImage)
      }, 0)
      return ceilMicros(unitPriceMicros * megapixels)
    }
    default:
      return estimate.micros
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
