import { Readable } from 'node:stream'
import { Type } from '@sinclair/typebox'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { BadRequest } from '../errors/gateway-errors.js'
import { errorResponses } from '../schemas/errors.js'
import type { UsageTotals } from '../spend/spend-store.js'
import { USAGE_CSV_HEADER, usageCsvLine } from '../spend/usage-csv.js'
import { parsePeriodKey, periodEnd, periodKey, type Period } from '../spend/utc-periods.js'

const PeriodQuerySchema = Type.Object({
  period: Type.Optional(Type.Union([Type.Literal('day'), Type.Literal('month')], { default: 'day', description: 'A UTC day or a UTC calendar month.' })),
  key: Type.Optional(Type.String({ maxLength: 10, description: 'The day (`2026-05-14`) or month (`2026-05`); default: the current one.' }))
}, { additionalProperties: false })

const Micros = Type.Integer({ description: 'micro-USD (1 USD = 1,000,000)' })
const SpendRowSchema = (name: string) => Type.Object({ [name]: Type.String(), charged_micro_usd: Micros, reserved_micro_usd: Micros })

const AdminUsageSchema = Type.Object({
  period: Type.Union([Type.Literal('day'), Type.Literal('month')]),
  key: Type.String(),
  starts_at: Type.String({ format: 'date-time' }),
  ends_at: Type.String({ format: 'date-time' }),
  currency: Type.Literal('USD'),
  total: Type.Object({ charged_micro_usd: Micros, reserved_micro_usd: Micros }),
  clients: Type.Array(SpendRowSchema('client')),
  models: Type.Array(SpendRowSchema('model')),
  tiers: Type.Array(SpendRowSchema('tier')),
  truncated: Type.Boolean({ description: 'True when a list was cut at `limit` rows (largest spenders first).' })
}, { title: 'AdminUsage' })

/** The period a query names, defaulting to the current one; a key naming no period is 400. */
function periodOf (query: { period?: Period | undefined, key?: string | undefined }, now: number): { period: Period, key: string, start: number } {
  const period = query.period ?? 'day'
  const key = query.key ?? periodKey(period, now)
  const start = parsePeriodKey(period, key)
  if (start === undefined) throw new BadRequest(`"${key}" is not a UTC ${period} (${period === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM'})`)
  return { period, key, start }
}

/**
 * The operator's view of spend, behind ADMIN_TOKEN: `GET /admin/usage` per client, model and tier
 * for a UTC day or month, and `GET /admin/usage/export`, the period's usage ledger as CSV, streamed.
 */
const adminUsageRoutes: FastifyPluginAsyncTypebox = async (fastify) => {
  const { spend } = fastify
  const onRequest = fastify.requireAdmin
  const tags = ['admin']

  fastify.get('/admin/usage', {
    schema: {
      tags,
      summary: 'Spend per client, model and tier for a UTC day or month (Authorization: Bearer <ADMIN_TOKEN>)',
      querystring: Type.Composite([PeriodQuerySchema, Type.Object({
        // Query strings are never coerced (ajv coerceTypes: false): a number arrives as digits.
        limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$|^10000$', default: '1000', description: 'Rows per list (1–10000), largest spenders first.' }))
      })], { additionalProperties: false }),
      response: { 200: AdminUsageSchema, ...errorResponses(400, 401, 422, 503) }
    },
    onRequest
  }, async (request) => {
    const { period, key, start } = periodOf(request.query, Date.now())
    const limit = Number(request.query.limit ?? 1000)
    const totals = await spend.store.allTotals({ period, key })
    let truncated = false
    const rows = (kind: string, name: string) => {
      const all = Object.entries(totals)
        .filter(([subject]) => subject.startsWith(`${kind}:`))
        .map(([subject, value]) => ({ [name]: subject.slice(kind.length + 1), ...row(value) }))
        .sort((a, b) => b.charged_micro_usd - a.charged_micro_usd || b.reserved_micro_usd - a.reserved_micro_usd)
      if (all.length > limit) truncated = true
      return all.slice(0, limit)
    }
    return {
      period,
      key,
      starts_at: new Date(start).toISOString(),
      ends_at: new Date(periodEnd(period, start)).toISOString(),
      currency: 'USD' as const,
      total: row(totals.global ?? { chargedMicros: 0, reservedMicros: 0 }),
      clients: rows('client', 'client') as Array<{ client: string, charged_micro_usd: number, reserved_micro_usd: number }>,
      models: rows('model', 'model') as Array<{ model: string, charged_micro_usd: number, reserved_micro_usd: number }>,
      tiers: rows('tier', 'tier') as Array<{ tier: string, charged_micro_usd: number, reserved_micro_usd: number }>,
      truncated
    }
  })

  fastify.get('/admin/usage/export', {
    schema: {
      tags,
      summary: 'The usage ledger of a UTC day or month as CSV: every reservation, release, settlement and expiry (Authorization: Bearer <ADMIN_TOKEN>)',
      querystring: PeriodQuerySchema,
      produces: ['text/csv'],
      response: { 200: Type.Unsafe<Readable>({ type: 'string', description: `CSV with the columns ${USAGE_CSV_HEADER.trim()}` }), ...errorResponses(400, 401, 422, 503) }
    },
    onRequest
  }, async (request, reply) => {
    const { period, key, start } = periodOf(request.query, Date.now())
    const pages = spend.store.ledger({ from: start, to: periodEnd(period, start) })
    // The first page is read before answering, so that a store that is down is a 503, not a cut CSV.
    const iterator = pages[Symbol.asyncIterator]()
    const first = await iterator.next()
    async function * lines (): AsyncGenerator<string> {
      yield USAGE_CSV_HEADER
      for (let page = first; page.done !== true; page = await iterator.next()) {
        yield page.value.map(usageCsvLine).join('')
      }
    }
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="fal-gateway-usage-${key}.csv"`)
      .send(Readable.from(lines()))
  })
}

function row ({ chargedMicros, reservedMicros }: UsageTotals) {
  return { charged_micro_usd: chargedMicros, reserved_micro_usd: reservedMicros }
}

export default adminUsageRoutes
