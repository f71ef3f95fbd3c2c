/**
 * Money is an integer of micro-USD (1 USD = 1,000,000): sums of integers are exact, sums of
 * floats are not. fal prices and bills in USD.
 */
export const MICROS_PER_USD = 1_000_000

/** Whole micro-units, rounded up: a price or a reservation errs on the side of the account. */
export function ceilMicros (value: number): number {
  // 0.1 + 0.2-style noise must not round a whole number up by one micro.
  const rounded = Math.round(value)
  const micros = Math.abs(value - rounded) < 1e-6 ? rounded : Math.ceil(value)
  if (!Number.isSafeInteger(micros) || micros < 0) throw new RangeError(`not a price in micro-USD: ${value}`)
  return micros
}

/** `$0.025`, `$12.5`: for messages, never for arithmetic. */
export function formatUsd (micros: number): string {
  const sign = micros < 0 ? '-' : ''
  const abs = Math.abs(micros)
  const whole = Math.floor(abs / MICROS_PER_USD)
  const fraction = String(abs % MICROS_PER_USD).padStart(6, '0').replace(/0+$/, '')
  return `${sign}$${whole}${fraction === '' ? '' : `.${fraction}`}`
}
