import { PNG } from 'pngjs'

export interface ImageSpec {
  width: number
  height: number
  /** true: RGBA with a transparent background (Layer Diffusion); false: opaque RGB. */
  alpha: boolean
  /** Picks one of VARIANTS looks, so different seeds give different images. */
  variant: number
}

export const VARIANTS = 4
const MAX_CACHED = 24

// Encoding a 1024² PNG costs ~150 ms; results repeat a few sizes, so keep the bytes.
const cache = new Map<string, Buffer>()

export function variantOf (seed: number): number {
  return ((seed % VARIANTS) + VARIANTS) % VARIANTS
}

/** The encoded PNG for `spec`, from an LRU cache. */
export function renderPng (spec: ImageSpec): Buffer {
  const key = `${spec.alpha ? 'rgba' : 'rgb'}:${spec.width}x${spec.height}:${spec.variant}`
  const cached = cache.get(key)
  if (cached !== undefined) {
    cache.delete(key)
    cache.set(key, cached)
    return cached
  }
  const png = new PNG({ width: spec.width, height: spec.height })
  if (spec.alpha) paintCutout(png, spec.variant)
  else paintIllusion(png, spec.variant)
  const bytes = PNG.sync.write(png, { colorType: spec.alpha ? 6 : 2 })
  cache.set(key, bytes)
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value as string)
  return bytes
}

const PALETTES: ReadonlyArray<readonly [number[], number[]]> = [
  [[24, 32, 72], [240, 200, 120]],
  [[12, 60, 40], [220, 240, 180]],
  [[70, 20, 60], [250, 170, 200]],
  [[20, 20, 20], [120, 210, 250]]
]

function paletteOf (variant: number): readonly [number[], number[]] {
  return PALETTES[variant % PALETTES.length] ?? [[0, 0, 0], [255, 255, 255]]
}

// Opaque spiral rings over a vertical gradient: the look of an illusion-diffusion pattern.
function paintIllusion (png: PNG, variant: number): void {
  const { width, height, data } = png
  const [dark, light] = paletteOf(variant)
  const cx = width / 2
  const cy = height / 2
  const frequency = (2 * Math.PI) / (Math.min(width, height) / (10 + variant * 3))
  const arms = 3 + variant
  for (let y = 0; y < height; y++) {
    const shade = 0.6 + 0.4 * (y / height)
    for (let x = 0; x < width; x++) {
      const dx = x - cx
      const dy = y - cy
      const t = 0.5 + 0.5 * Math.sin(Math.hypot(dx, dy) * frequency + Math.atan2(dy, dx) * arms)
      const i = (y * width + x) * 4
      for (let c = 0; c < 3; c++) {
        data[i + c] = Math.round(((dark[c] ?? 0) + ((light[c] ?? 255) - (dark[c] ?? 0)) * t) * shade)
      }
      data[i + 3] = 255
    }
  }
}

// A lit disc with a soft shadow on a fully transparent background: a layer cut-out.
function paintCutout (png: PNG, variant: number): void {
  const { width, height, data } = png
  const [dark, light] = paletteOf(variant)
  const side = Math.min(width, height)
  const radius = side * 0.32
  const cx = width / 2
  const cy = height * 0.45
  const shadowY = cy + radius * 1.1
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4
      const distance = Math.hypot(x - cx, y - cy)
      const coverage = clamp(radius - distance + 0.5)
      if (coverage > 0) {
        const light01 = clamp(1 - Math.hypot(x - (cx - radius * 0.35), y - (cy - radius * 0.35)) / (radius * 1.6))
        for (let c = 0; c < 3; c++) {
          data[i + c] = Math.round((dark[c] ?? 0) + ((light[c] ?? 255) - (dark[c] ?? 0)) * light01)
        }
        data[i + 3] = Math.round(255 * coverage)
        continue
      }
      // Elliptical shadow: half-transparent black fading out.
      const sx = (x - cx) / (radius * 0.9)
      const sy = (y - shadowY) / (radius * 0.18)
      const shadow = clamp(1 - Math.hypot(sx, sy))
      data[i] = 0
      data[i + 1] = 0
      data[i + 2] = 0
      data[i + 3] = Math.round(110 * shadow)
    }
  }
}

function clamp (value: number): number {
  return value < 0 ? 0 : value > 1 ? 1 : value
}
