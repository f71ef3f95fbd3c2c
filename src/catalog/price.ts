import type { EndpointPrice } from './catalog-endpoint.js'
import type { FalPrice } from './catalog-file.js'

const MICRO_DIGITS = 6

/**
 * fal's decimal price in integer micro-units, read from its decimal digits rather than through
 * float arithmetic; a price finer than a micro-unit (0.0024075) is rounded up, never under-counted.
 */
export function toMicros (unitPrice: number | string): number {
  const text = typeof unitPrice === 'number' ? unitPrice.toFixed(12) : unitPrice
  const [whole = '0', fraction = ''] = text.split('.')
  const kept = fraction.slice(0, MICRO_DIGITS).padEnd(MICRO_DIGITS, '0')
  const roundUp = /[1-9]/.test(fraction.slice(MICRO_DIGITS)) ? 1 : 0
  return Number(whole) * 10 ** MICRO_DIGITS + Number(kept) + roundUp
}

export function endpointPriceOf (price: FalPrice): EndpointPrice {
  return { unitPriceMicros: toMicros(price.unit_price), unit: price.unit, currency: price.currency ?? 'USD' }
}
