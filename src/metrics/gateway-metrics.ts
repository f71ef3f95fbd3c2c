import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { createSpendMetrics } from './spend-metrics.js'

/** Circuit-breaker states as the `fal_gateway_circuit_state` gauge reports them. */
export const CIRCUIT_STATES = { closed: 0, 'half-open': 1, open: 2 } as const
export type CircuitState = keyof typeof CIRCUIT_STATES

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

/**
 * Every metric the gateway exports: its own under `fal_gateway_*`, units in the names (`_seconds`,
 * `_bytes`, `_total` for counters), on a registry of its own (not prom-client's global one), so
 * two apps in one process (tests, `npm run dev`) never share or clash over counters.
 */
export function createGatewayMetrics () {
  const registry = new Registry()
  // Node's and the process's own metrics under their standard names (process_cpu_seconds_total,
  // nodejs_eventloop_lag_seconds...), which stock Node.js dashboards expect.
  collectDefaultMetrics({ register: registry })
  const registers = [registry]

  const circuits = new Map<string, CircuitState>()
  let inFlightJobs: () => number = () => 0

  return {
    registry,
    /** Money: spend, reservations, budget refusals, write-ahead recoveries (spend-metrics.ts). */
    spend: createSpendMetrics(registers),
    httpRequests: new Counter({
      name: 'fal_gateway_http_requests_total',
      help: 'Requests answered, by route pattern (never the raw URL), method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers
    }),
    httpDuration: new Histogram({
      name: 'fal_gateway_http_request_duration_seconds',
      help: 'Time from request to the last byte of the answer, by route pattern, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      buckets: LATENCY_BUCKETS,
      registers
    }),
    upstreamCalls: new Counter({
      name: 'fal_gateway_upstream_requests_total',
      help: 'Calls to fal by model, operation and outcome (ok, client_error, server_error, timeout, error)',
      labelNames: ['model', 'operation', 'outcome'] as const,
      registers
    }),
    upstreamDuration: new Histogram({
      name: 'fal_gateway_upstream_request_duration_seconds',
      help: 'Time from sending a call to fal to its answer (the headers of a stream, the whole body otherwise) or the failure, by model, operation and outcome',
      labelNames: ['model', 'operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers
    }),
    refusals: new Counter({
      name: 'fal_gateway_refusals_total',
      help: "Error answers by the gateway's error code and the client's tier (none: refused before identification)",
      labelNames: ['code', 'tier'] as const,
      registers
    }),
    redisErrors: new Counter({
      name: 'fal_gateway_redis_errors_total',
      help: 'Errors reported by the Redis connection (connection refused, timeouts, resets)',
      registers
    }),
    jobsInFlight: new Gauge({
      name: 'fal_gateway_jobs_in_flight',
      help: 'Jobs this node submitted to fal and has not yet seen finish (or expire); replicas each report their own',
      registers,
      collect () { this.set(inFlightJobs()) }
    }),
    circuitState: new Gauge({
      name: 'fal_gateway_circuit_state',
      help: 'Circuit breaker state per upstream operation: 0 closed, 1 half-open, 2 open',
      labelNames: ['operation'] as const,
      registers,
      collect () {
        for (const [operation, state] of circuits) this.set({ operation }, CIRCUIT_STATES[state])
      }
    }),
    /** For the upstream breakers: call on every state change. */
    reportCircuitState (operation: string, state: CircuitState): void {
      circuits.set(operation, state)
    },
    /** Where the in-flight gauge reads its value at scrape time. */
    countJobsWith (count: () => number): void {
      inFlightJobs = count
    }
  }
}

export type GatewayMetrics = ReturnType<typeof createGatewayMetrics>
