import { Type, type Static } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errorResponses } from '../schemas/errors.js'
import { PERIODS, periodEnd, periodKey, periodStart } from '../spend/utc-periods.js'

const Micros = (description: string) => Type.Integer({ description: `${description}, in micro-USD (1 USD = 1,000,000)` })

const PeriodUsageSchema = Type.Object({
  period: Type.Union([Type.Literal('day'), Type.Literal('month')]),
  key: Type.String({ description: 'The UTC day (`2026-05-14`) or month (`2026-05`).' }),
  starts_at: Type.String({ format: 'date-time' }),
  resets_at: Type.String({ format: 'date-time', description: 'When the period ends and its budgets start afresh.' }),
  charged_micro_usd: Micros('Charged for jobs that completed or whose reservation expired'),
  reserved_micro_usd: Micros('Held for jobs not settled yet'),
  limit_micro_usd: Type.Union([Micros('This client\'s own budget for the period'), Type.Null()]),
  remaining_micro_usd: Type.Union([Micros('What this client may still reserve this period, under every budget that applies'), Type.Null()])
})

export const UsageSchema = Type.Object({
  client: Type.String({ description: 'Who is asking: `key:<id>`, `jwt:<sub>` or `ip:<address>`.' }),
  tier: Type.String(),
  currency: Type.Literal('USD'),
  periods: Type.Array(PeriodUsageSchema)
}, { title: 'Usage' })
export type Usage = Static<typeof UsageSchema>

/** `GET /v1/usage`: the calling client's own spend, reservations and remaining budget, per UTC period. */
const usageRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { spend } = fastify

  fastify.get('/v1/usage', {
    schema: {
      tags: ['usage'],
      summary: 'Your spend, reservations and remaining budget today and this month (UTC)',
      querystring: Type.Object({}, { additionalProperties: false }),
      response: { 200: UsageSchema, ...errorResponses(401, 422, 429, 503) }
    },
    // Charged to the poll budget, like a status: reading one's own usage is a poll.
    onRequest: async (request, reply) => { await fastify.admit(request, reply, 'status') }
  }, async (request) => {
    // The identity admit resolved, and nothing else: no parameter can name another client.
    const { client } = request
    const now = Date.now()
    const own = `client:${client.id}`
    const budgets = spend.budgetsFor(client)
    const periods = await Promise.all(PERIODS.map(async period => {
      const applying = budgets.filter(budget => budget.period === period)
      const key = periodKey(period, now)
      const totals = await spend.store.totals({ period, key, subjects: [...new Set([own, ...applying.map(budget => budget.subject)])] })
      const used = (subject: string) => (totals[subject]?.chargedMicros ?? 0) + (totals[subject]?.reservedMicros ?? 0)
      const remaining = applying.map(budget => Math.max(0, budget.limitMicros - used(budget.subject)))
      return {
        period,
        key,
        starts_at: new Date(periodStart(period, now)).toISOString(),
        resets_at: new Date(periodEnd(period, now)).toISOString(),
        charged_micro_usd: totals[own]?.chargedMicros ?? 0,
        reserved_micro_usd: totals[own]?.reservedMicros ?? 0,
        limit_micro_usd: applying.find(budget => budget.scope === 'client')?.limitMicros ?? null,
        remaining_micro_usd: remaining.length === 0 ? null : Math.min(...remaining)
      }
    }))
    return { client: client.id, tier: client.tier, currency: 'USD' as const, periods }
  })
}

export default usageRoutes
