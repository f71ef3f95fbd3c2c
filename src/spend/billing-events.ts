import { ceilMicros } from './money.js'

export interface BillingEventsOptions {
  /** fal's platform API (FAL_API_URL), `https://api.fal.ai` in production. */
  apiUrl: string
  /** FAL_ADMIN_KEY: billing events need an admin-scoped key, never the gateway's FAL_KEY. */
  adminKey: string
  timeoutMs: number
}

/** One record of `GET /v1/models/billing-events`, as far as reconciliation reads it. */
interface BillingEvent {
  request_id?: unknown
  /** The cost after discounts, in nano-USD: exact, preferred. */
  cost_estimate_nano_usd?: unknown
  /** The same in USD. */
  cost_total?: unknown
}

/** What fal billed for one request, in micro-USD; undefined while fal has no billing event for it. */
export type BilledAmount = (requestId: string) => Promise<number | undefined>

/**
 * Asks fal what it actually billed for a request (`GET /v1/models/billing-events?request_id=…`),
 * so that a completed job is charged fal's figure rather than the gateway's estimate. Errors name
 * the status only: the admin key is in no message.
 */
export function createBilledAmount ({ apiUrl, adminKey, timeoutMs }: BillingEventsOptions): BilledAmount {
  return async function billedMicros (requestId) {
    const response = await fetch(`${apiUrl}/v1/models/billing-events?request_id=${encodeURIComponent(requestId)}`, {
      headers: { authorization: `Key ${adminKey}`, accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs)
    })
    if (response.status !== 200) {
      await response.body?.cancel()
      throw new Error(`fal's billing events answered ${response.status}`)
    }
    const { billing_events: events } = await response.json() as { billing_events?: unknown }
    if (!Array.isArray(events)) throw new Error('fal\'s billing events answered without billing_events')
    let total: number | undefined
    for (const event of events as BillingEvent[]) {
      if (event.request_id !== requestId) continue
      total = (total ?? 0) + microsOf(event)
    }
    return total
  }
}

function microsOf (event: BillingEvent): number {
  const nano = Number(event.cost_estimate_nano_usd)
  if (Number.isSafeInteger(nano) && nano >= 0) return Math.ceil(nano / 1000)
  const usd = Number(event.cost_total)
  if (Number.isFinite(usd) && usd >= 0) return ceilMicros(usd * 1_000_000)
  throw new Error('a billing event without a cost')
}
