import { Counter, type Registry } from 'prom-client'

/** Why a delivery to `POST /webhooks/fal` was refused, as the refusal counter labels it. */
export type FalWebhookRefusal = 'unsigned' | 'stale' | 'forged' | 'malformed' | 'unknown_request' | 'replayed' | 'oversized' | 'jwks_unavailable' | 'store_unavailable'

/** Webhook metrics, on the gateway's registry. */
export function createWebhookMetrics (registry: Registry) {
  const registers = [registry]
  return {
    falReceived: new Counter({
      name: 'fal_gateway_fal_webhooks_received_total',
      help: 'Deliveries to POST /webhooks/fal, whatever became of them',
      registers
    }),
    falAccepted: new Counter({
      name: 'fal_gateway_fal_webhooks_accepted_total',
      help: "Verified deliveries accepted: recorded (the job's first outcome) or known (it already had one)",
      labelNames: ['result'] as const,
      registers
    }),
    falRefused: new Counter({
      name: 'fal_gateway_fal_webhooks_refused_total',
      help: 'Deliveries refused, by reason: unsigned, stale, forged, malformed, unknown_request, replayed, oversized, jwks_unavailable, store_unavailable',
      labelNames: ['reason'] as const,
      registers
    }),
    pollsAnsweredLocally: new Counter({
      name: 'fal_gateway_polls_answered_without_fal_total',
      help: "Status, result and stream requests answered from a webhook's outcome, with no call to fal, by operation",
      labelNames: ['operation'] as const,
      registers
    }),
    clientDeliveries: new Counter({
      name: 'fal_gateway_client_webhook_deliveries_total',
      help: "Attempts to deliver an outcome to a client's webhook, by result: sent (2xx) or failed",
      labelNames: ['result'] as const,
      registers
    }),
    clientDeadLettered: new Counter({
      name: 'fal_gateway_client_webhooks_dead_lettered_total',
      help: 'Client webhook deliveries given up after their last attempt (listed at GET /admin/webhooks/failed)',
      registers
    })
  }
}

export type WebhookMetrics = ReturnType<typeof createWebhookMetrics>
