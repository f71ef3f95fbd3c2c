import type { Job } from './jobs.js'
import { renderPng, variantOf, VARIANTS, type ImageSpec } from './png.js'
import type { Input } from './validation.js'
// One table of fal's presets: the gateway prices by it, the emulator draws by it.
import { IMAGE_SIZE_PRESETS } from '../spend/image-sizes.js'

// fal accepts sides up to 14142; the emulator renders real PNGs, so it draws larger sizes scaled
// down to MAX_SIDE (keeping their shape) and reports the size it drew.
export const MAX_SIDE = 4096

function scaled (width: number, height: number): { width: number, height: number } {
  const scale = Math.min(1, MAX_SIDE / Math.max(width, height))
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) }
}

/** The size an input asks for: `image_size` (a preset or width and height), `aspect_ratio` (`16:9`), or 1024². */
export function imageSizeOf (input: Input): { width: number, height: number } {
  const size = input.image_size
  if (typeof size === 'string') return IMAGE_SIZE_PRESETS[size] ?? { width: 1024, height: 1024 }
  if (typeof size === 'object' && size !== null) {
    const { width = 512, height = 512 } = size as { width?: number, height?: number }
    return scaled(width, height)
  }
  const ratio = typeof input.aspect_ratio === 'string' ? /^(\d+):(\d+)$/.exec(input.aspect_ratio) : null
  if (ratio !== null) {
    const [w, h] = [Number(ratio[1]), Number(ratio[2])]
    return w >= h ? scaled(1024, Math.round(1024 * h / w)) : scaled(Math.round(1024 * w / h), 1024)
  }
  return { width: 1024, height: 1024 }
}

/**
 * Result images are named after what they show (`<request id>_<w>x<h>_<rgb|rgba>_<variant>.png`),
 * so the file route can render them from the name alone, even after the job is evicted.
 */
export function imageFileName (job: Job, index = 0): string {
  const { width, height, alpha, variant } = imageSpecOf(job, index)
  return `${job.id}_${width}x${height}_${alpha ? 'rgba' : 'rgb'}_${variant}.png`
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

export function imageSpecOf (job: Job, index = 0): ImageSpec {
  return { width: job.width, height: job.height, alpha: job.alpha, variant: variantOf(job.seed + index) }
}

export function imageFile (job: Job, baseUrl: string, index: number): Record<string, unknown> {
  const fileName = imageFileName(job, index)
  return {
    url: `${baseUrl}/files/${fileName}`,
    content_type: 'image/png',
    file_name: fileName,
    file_size: renderPng(imageSpecOf(job, index)).length,
    width: job.width,
    height: job.height
  }
}

/** Stand-ins for audio, video and other files: a few bytes of the right type, not a playable file. */
export const STAND_IN_TYPES: Readonly<Record<string, string>> = { wav: 'audio/wav', mp4: 'video/mp4', bin: 'application/octet-stream' }
const STAND_IN_NAME = /^[0-9a-f-]{36}_\d{1,3}\.(wav|mp4|bin)$/

export function standInFile (job: Job, baseUrl: string, index: number, kind: 'wav' | 'mp4' | 'bin'): Record<string, unknown> {
  const fileName = `${job.id}_${index}.${kind}`
  return { url: `${baseUrl}/files/${fileName}`, content_type: STAND_IN_TYPES[kind], file_name: fileName, file_size: standInBytes(kind).length }
}

/** The stand-in's extension, when `name` is one. */
export function parseStandInName (name: string): string | undefined {
  return STAND_IN_NAME.exec(name)?.[1]
}

export function standInBytes (kind: string): Buffer {
  return Buffer.from(`fal emulator stand-in ${kind} file\n`)
}
