import type { Job } from './jobs.js'
import { MAX_SIDE } from './models.js'
import { renderPng, variantOf, VARIANTS, type ImageSpec } from './png.js'

/**
 * Result images are named after what they show (`<request id>_<w>x<h>_<rgb|rgba>_<variant>.png`),
 * so the file route can render them from the name alone, even after the job is evicted.
 */
export function imageFileName (job: Job): string {
  const { width, height, alpha } = imageSpecOf(job)
  return `${job.id}_${width}x${height}_${alpha ? 'rgba' : 'rgb'}_${variantOf(job.seed)}.png`
}

const NAME = /^[0-9a-f-]{36}_(\d{1,4})x(\d{1,4})_(rgba?)_(\d)\.png$/

export function parseImageFileName (name: string): ImageSpec | undefined {
  const match = NAME.exec(name)
  if (match === null) return undefined
  const width = Number(match[1])
  const height = Number(match[2])
  const variant = Number(match[4])
  if (width < 1 || height < 1 || width > MAX_SIDE || height > MAX_SIDE || variant >= VARIANTS) return undefined
  return { width, height, alpha: match[3] === 'rgba', variant }
}

export function imageSpecOf (job: Job): ImageSpec {
  return { width: job.width, height: job.height, alpha: job.alpha, variant: variantOf(job.seed) }
}

export interface ImageFile {
  url: string
  content_type: 'image/png'
  file_name: string
  file_size: number
  width: number
  height: number
}

/** The model output both emulated apps share: `{ image, seed }`. */
export function resultOf (job: Job, baseUrl: string): { image: ImageFile, seed: number } {
  const fileName = imageFileName(job)
  return {
    image: {
      url: `${baseUrl}/files/${fileName}`,
      content_type: 'image/png',
      file_name: fileName,
      file_size: renderPng(imageSpecOf(job)).length,
      width: job.width,
      height: job.height
    },
    seed: job.seed
  }
}
