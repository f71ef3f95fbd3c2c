/**
 * Limits raised out of the way: the benchmark measures the checks, it must not trip them. Shedding
 * is off too, since a loaded machine's event-loop delay would otherwise refuse the load itself.
 */
export const UNLIMITED: Record<string, string> = {
  RATE_LIMIT_SUBMIT_MAX: '1000000000',
  RATE_LIMIT_POLL_MAX: '1000000000',
  MAX_IN_FLIGHT: '1000000000',
  DAILY_SUBMIT_QUOTA: '1000000000',
  MAX_STREAMS_PER_CLIENT: '1000000000',
  MAX_EVENT_LOOP_DELAY_MS: '0'
}
