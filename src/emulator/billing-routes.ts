import { Type } from '@sinclair/typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { keyChecker } from './auth.js'
import { falHooks, type FalHooksContext } from './fal-hooks.js'
import type { Job, JobStore } from './jobs.js'

export interface BillingRoutesOptions {
  hooks: FalHooksContext
  jobs: JobStore
  /** The admin-scoped key billing events need (fal refuses an inference-only key with 403). */
  adminKey: string
}

/** How the emulator bills each app, in nano-USD: fal's unit and what one job used of it. */
const BILLING: Record<string, { unit: string, unitPriceNanoUsd: number, units: (job: Job, jobs: JobStore) => number }> = {
  'fal-ai/layer-diffusion': { unit: 'image', unitPriceNanoUsd: 30_000_000, units: () => 1 },
  // GPU time: the processing the job actually took, which no submit can know in advance.
  'fal-ai/illusion-diffusion': {
    unit: 'compute seconds',
    unitPriceNanoUsd: 1_110_000,
    units: (job, jobs) => (jobs.timing.processingMs + (job.processingHeldMs ?? 0)) / 1000
  }
}

const QuerySchema = Type.Object({
  request_id: Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 50 })])
})

/**
 * `GET /v1/models/billing-events?request_id=…` of fal's platform API (api.fal.ai, here on the
 * emulator's one port): one event per completed request, none for a cancelled or unfinished one
 * (fal bills successful outputs only). `cost_estimate_nano_usd` is exact; `cost_total` is in USD.
 */
export function billingRoutes (app: FastifyInstance, { hooks, jobs, adminKey }: BillingRoutesOptions): void {
  const checkKey = keyChecker(adminKey)
  app.withTypeProvider<TypeBoxTypeProvider>().get('/v1/models/billing-events', {
    ...falHooks(hooks, 'billing-events', false),
    schema: { querystring: QuerySchema }
  }, async (request, reply) => {
    const problem = checkKey(request.headers.authorization)
    if (problem !== undefined) return reply.code(problem.startsWith('No user') ? 403 : 401).send({ detail: problem })
    const ids = [request.query.request_id].flat()
    const events = ids.flatMap(id => {
      const job = jobs.get(id)
      const billing = job === undefined ? undefined : BILLING[job.model.id]
      if (job === undefined || billing === undefined) return []
      const view = jobs.view(job)
      if (view.state !== 'COMPLETED' || view.cancelled) return []
      const unitQuantity = billing.units(job, jobs)
      const nano = Math.round(billing.unitPriceNanoUsd * unitQuantity)
      return [{
        request_id: job.id,
        endpoint_id: job.model.id,
        timestamp: new Date(jobs.completesAt(job)).toISOString(),
        unit: billing.unit,
        unit_quantity: unitQuantity,
        unit_price: billing.unitPriceNanoUsd / 1e9,
        cost_total: nano / 1e9,
        cost_estimate_nano_usd: nano
      }]
    })
    return { billing_events: events, next_cursor: null, has_more: false }
  })
}
