/** Budgets run per UTC day and per UTC calendar month, whatever the server's time zone. */
export type Period = 'day' | 'month'

export const PERIODS: readonly Period[] = ['day', 'month']

/** `2026-05-14` for a day, `2026-05` for a month: the period holding `now`. */
export function periodKey (period: Period, now: number): string {
  const iso = new Date(now).toISOString()
  return period === 'day' ? iso.slice(0, 10) : iso.slice(0, 7)
}

/** Epoch ms at which the period holding `now` starts. */
export function periodStart (period: Period, now: number): number {
  const date = new Date(now)
  return period === 'day'
    ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate())
    : Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1)
}

/** Epoch ms at which the period holding `now` ends and its budgets reset. */
export function periodEnd (period: Period, now: number): number {
  const date = new Date(now)
  return period === 'day'
    ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
    : Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)
}

const DAY_KEY = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/
const MONTH_KEY = /^(\d{4})-(0[1-9]|1[0-2])$/

/** The start (epoch ms) of a period named by its key, or undefined for a key that names none. */
export function parsePeriodKey (period: Period, key: string): number | undefined {
  const match = (period === 'day' ? DAY_KEY : MONTH_KEY).exec(key)
  if (match === null) return undefined
  const start = Date.UTC(Number(match[1]), Number(match[2]) - 1, match[3] === undefined ? 1 : Number(match[3]))
  // 2026-02-30 parses to March 2nd: refuse it rather than answer for another day.
  return periodKey(period, start) === key ? start : undefined
}
