/**
 * fal's billing unit, normalised. fal answers `unit` as free text (`image`, `images`,
 * `megapixels`, `seconds`, `videos`, `compute seconds`, `compute_seconds`, `1000 characters`,
 * `minutes`…), so every spelling seen is mapped to one of these.
 */
export type PriceUnit =
  | 'image'
  | 'megapixel'
  /** A second of generated video or audio: read from the input's duration. */
  | 'second'
  | 'video'
  /** GPU time: the input cannot say how much, so a fallback estimate is reserved. */
  | 'compute_second'
  | 'request'
  | 'thousand_characters'
  | 'minute'
  | 'unknown'

const SPELLINGS: Record<string, PriceUnit> = {
  image: 'image',
  images: 'image',
  megapixel: 'megapixel',
  megapixels: 'megapixel',
  mp: 'megapixel',
  second: 'second',
  seconds: 'second',
  sec: 'second',
  video: 'video',
  videos: 'video',
  'compute second': 'compute_second',
  'compute seconds': 'compute_second',
  request: 'request',
  requests: 'request',
  call: 'request',
  calls: 'request',
  '1000 characters': 'thousand_characters',
  '1k characters': 'thousand_characters',
  'thousand characters': 'thousand_characters',
  minute: 'minute',
  minutes: 'minute',
  other: 'unknown',
  unknown: 'unknown'
}

/** `Compute_Seconds`, ` images ` and `1000-characters` all name a unit; anything else is `unknown`. */
export function normaliseUnit (unit: string): PriceUnit {
  const spelled = unit.trim().toLowerCase().replace(/[\s_-]+/g, ' ')
  return SPELLINGS[spelled] ?? 'unknown'
}

/** Units assumed when the input cannot say (per unit; `unknown` covers units not listed). */
export type FallbackUnits = Partial<Record<PriceUnit, number>>

export const DEFAULT_FALLBACK_UNITS = 'compute_seconds=30,1000_characters=1,minutes=1,megapixels=1,seconds=10,unknown=1'

/**
 * Parses PRICE_FALLBACK_UNITS: `unit=quantity` pairs separated by commas, each unit spelled as fal
 * spells it, spaces or underscores (`compute_seconds=30,minutes=2`). Throws a one-line message on a malformed pair.
 */
export function parseFallbackUnits (text: string): FallbackUnits {
  const units: FallbackUnits = {}
  for (const pair of text.split(',').map(part => part.trim()).filter(part => part.length > 0)) {
    const match = /^([^=]+)=\s*(\d+(?:\.\d+)?)$/.exec(pair)
    if (match === null) throw new Error(`"${pair}" is not unit=quantity`)
    const name = (match[1] as string).trim()
    const unit = normaliseUnit(name)
    if (unit === 'unknown' && !['unknown', 'other'].includes(name.toLowerCase())) throw new Error(`"${name}" is not a unit fal bills in`)
    units[unit] = Number(match[2])
  }
  return units
}
