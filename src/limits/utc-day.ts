const DAY_MS = 86_400_000

/** Quotas reset at UTC midnight: `YYYY-MM-DD` of the UTC day holding `now`. */
export function utcDay (now: number): string {
  return new Date(now).toISOString().slice(0, 10)
}

export function nextUtcMidnight (now: number): number {
  return (Math.floor(now / DAY_MS) + 1) * DAY_MS
}
