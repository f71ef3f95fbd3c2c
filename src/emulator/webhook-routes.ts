import { Type } from '@sinclair/typebox'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { resultOf } from './sample-output.js'
import type { Job, JobStore } from './jobs.js'
import { DeliveryKindSchema, TamperSchema, type WebhookBody, type Webhooks } from './webhooks.js'

export interface WebhookRoutesOptions {
  jobs: JobStore
  webhooks: Webhooks
  baseUrl (request: FastifyRequest): string
}

/** What fal posts about a job: its result, or the error that ended it. */
export function webhookBodyOf (job: Job, jobs: JobStore, baseUrl: string): WebhookBody {
  return jobs.view(job).cancelled
    ? { request_id: job.id, gateway_request_id: job.id, status: 'ERROR', payload: null, error: 'Request was cancelled' }
    : { request_id: job.id, gateway_request_id: job.id, status: 'OK', payload: resultOf(job, baseUrl) }
}

/**
 * fal's JWKS (`https://rest.fal.ai/.well-known/jwks.json`, here on the emulator's one port) and the
 * `/_emulator/webhooks/*` controls: tamper with the next deliveries, rotate the key, take the JWKS
 * down, send one delivery now, read what was delivered.
 */
export function webhookRoutes (app: FastifyInstance, { jobs, webhooks, baseUrl }: WebhookRoutesOptions): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>()

  typed.get('/.well-known/jwks.json', async (_request, reply) => {
    webhooks.jwksFetches += 1
    if (!webhooks.jwksAvailable) return reply.code(503).send({ detail: 'Service Unavailable' })
    return reply.header('cache-control', 'max-age=3600').send(webhooks.keys.jwks())
  })

  typed.post('/_emulator/webhooks/tamper', { schema: { body: TamperSchema } }, async (request, reply) => {
    webhooks.tamper(request.body)
    return reply.code(204).send()
  })

  typed.post('/_emulator/webhooks/rotate', { schema: { body: Type.Optional(Type.Object({ retire: Type.Optional(Type.Boolean()) }, { additionalProperties: false })) } }, async (request, reply) => {
    webhooks.keys.rotate(request.body?.retire ?? false)
    return reply.code(204).send()
  })

  typed.put('/_emulator/webhooks/jwks', { schema: { body: Type.Object({ available: Type.Boolean() }, { additionalProperties: false }) } }, async (request, reply) => {
    webhooks.jwksAvailable = request.body.available
    return reply.code(204).send()
  })

  typed.get('/_emulator/webhooks/deliveries', async () => webhooks.deliveries)

  typed.post('/_emulator/webhooks/send', {
    schema: {
      body: Type.Object({
        request_id: Type.String(),
        url: Type.String({ pattern: '^https?://' }),
        kind: Type.Optional(DeliveryKindSchema),
        bytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 * 1024 * 1024 }))
      }, { additionalProperties: false })
    }
  }, async (request, reply) => {
    const job = jobs.get(request.body.request_id)
    if (job === undefined) return reply.code(404).send({ detail: 'Request not found' })
    const statuses = await webhooks.send(request.body.url, webhookBodyOf(job, jobs, baseUrl(request)), request.body.kind, { bytes: request.body.bytes })
    return { statuses: statuses.map(status => status ?? null) }
  })
}
