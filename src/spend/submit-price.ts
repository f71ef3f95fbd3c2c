import type { TObject, TSchema } from '@sinclair/typebox'
import type { CatalogEndpoint } from '../catalog/catalog-endpoint.js'
import { billedMegapixels, resolveImageSize } from './image-sizes.js'
import { ceilMicros } from './money.js'
import { normaliseUnit, type FallbackUnits, type PriceUnit } from './price-units.js'

/** What pricing needs of a catalog endpoint. */
export type PricedEndpoint = Pick<CatalogEndpoint, 'id' | 'input' | 'price' | 'pricing'>

export interface SubmitPrice {
  /** The whole job, in micro-USD, rounded up. */
  micros: number
  unit: PriceUnit
  /** Units billed: images, megapixels over all images, seconds × outputs, … */
  quantity: number
  /** Outputs asked for (num_images), 1 where the input has no count. */
  outputs: number
  /** True when part of the quantity is the fallback estimate rather than read from the input. */
  estimated: boolean
}

/** fal bills in USD; a price in anything else cannot be compared with a budget. */
export function assertPriceable (endpoint: PricedEndpoint): void {
  const price = endpoint.price
  if (price === undefined) return
  if (price.currency.toUpperCase() !== 'USD') throw new Error(`${endpoint.id}: price in ${price.currency}; budgets are in USD`)
  if (!Number.isSafeInteger(price.unitPriceMicros) || price.unitPriceMicros < 0) throw new Error(`${endpoint.id}: unit price is not whole micro-USD`)
}

/**
 * The price of a submit, before fal sees it, from the endpoint's unit price and the validated
 * input (defaults applied): per image × images; per megapixel × each image's size in whole
 * megapixels × images; per second × the input's duration × outputs; per video × outputs; per
 * request × 1. Units the input cannot give (compute seconds, characters, minutes, an unreadable
 * size or duration) take the endpoint's `pricing.fallbackUnits`, else `fallback[unit]`, else
 * `fallback.unknown`, else 1. Undefined when the endpoint has no price.
 */
export function priceSubmit (endpoint: PricedEndpoint, input: Record<string, unknown>, fallback: FallbackUnits): SubmitPrice | undefined {
  const price = endpoint.price
  if (price === undefined) return undefined
  assertPriceable(endpoint)
  const unit = normaliseUnit(price.unit)
  const rules = endpoint.pricing ?? {}
  const fallbackQuantity = rules.fallbackUnits ?? fallback[unit] ?? fallback.unknown ?? 1
  const outputs = outputCount(endpoint.input, input, rules.countField)

  let quantity: number
  let estimated = false
  switch (unit) {
    case 'image':
    case 'video':
      quantity = outputs
      break
    case 'request':
      quantity = 1
      break
    case 'megapixel': {
      const field = rules.sizeField ?? 'image_size'
      const size = resolveImageSize(valueOf(endpoint.input, input, field), endpoint.input.properties[field])
      estimated = size === undefined
      quantity = outputs * (size === undefined ? fallbackQuantity : billedMegapixels(size))
      break
    }
    case 'second': {
      const field = rules.durationField ?? 'duration'
      const seconds = secondsOf(valueOf(endpoint.input, input, field))
      estimated = seconds === undefined
      quantity = outputs * (seconds ?? fallbackQuantity)
      break
    }
    default:
      estimated = true
      quantity = fallbackQuantity
  }
  return { micros: ceilMicros(price.unitPriceMicros * quantity), unit, quantity, outputs, estimated }
}

/** The input's value for a field, else the schema's default for it. */
function valueOf (schema: TObject, input: Record<string, unknown>, field: string): unknown {
  return input[field] ?? (schema.properties[field] as TSchema | undefined)?.default
}

/** `num_images` (or the rule's field) when the schema has it: a positive integer, else 1. */
function outputCount (schema: TObject, input: Record<string, unknown>, countField: string | undefined): number {
  const field = countField ?? 'num_images'
  if (schema.properties[field] === undefined && countField === undefined) return 1
  const count = valueOf(schema, input, field)
  return typeof count === 'number' && Number.isInteger(count) && count >= 1 ? count : 1
}

/** A duration in seconds: `5`, `5.5`, or fal's enum strings `"5"`, `"10s"`. */
function secondsOf (value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined
  if (typeof value !== 'string') return undefined
  const match = /^\s*(\d+(?:\.\d+)?)\s*s?\s*$/i.exec(value)
  const seconds = match === null ? NaN : Number(match[1])
  return seconds > 0 ? seconds : undefined
}
