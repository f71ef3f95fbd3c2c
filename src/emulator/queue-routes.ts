import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { falHooks, type FalHooksContext } from './fal-hooks.js'
import type { Job, JobStore } from './jobs.js'
import type { EmulatedModel } from './models.js'
import { resultOf } from './sample-output.js'
import { requestUrls, statusBody } from './status.js'
import { startJob } from './start-job.js'
import type { Webhooks } from './webhooks.js'

export interface QueueRoutesOptions {
  hooks: FalHooksContext
  jobs: JobStore
  webhooks: Webhooks
  models: ReadonlyMap<string, EmulatedModel>
  baseUrl (request: FastifyRequest): string
}

interface AppParams { owner: string, alias: string, '*'?: string }
interface RequestParams { owner: string, alias: string, requestId: string }
interface LogsQuery { logs?: string }
interface SubmitRoute { Params: AppParams, Querystring: { fal_webhook?: string } }

// The client gives up on a silent stream after 15 s; tick well inside that.
const STREAM_KEEPALIVE_MS = 1000

export function queueRoutes (app: FastifyInstance, options: QueueRoutesOptions): void {
  const { hooks, jobs, webhooks, models, baseUrl } = options

  /** The job named by the URL, or undefined after answering fal's 404. */
  function findJob (request: FastifyRequest<{ Params: RequestParams }>, reply: FastifyReply, notFound: object): Job | undefined {
    const { owner, alias, requestId } = request.params
    const job = jobs.get(requestId)
    if (job === undefined || job.model.appId !== `${owner}/${alias}`) {
      reply.code(404).send(notFound)
      return undefined
    }
    reply.header('x-fal-request-id', job.id)
    return job
  }

  const submit = async (request: FastifyRequest<SubmitRoute>, reply: FastifyReply): Promise<FastifyReply> => {
    const { owner, alias } = request.params
    const subPath = request.params['*'] ?? ''
    const endpointId = subPath === '' ? `${owner}/${alias}` : `${owner}/${alias}/${subPath}`
    const model = models.get(endpointId)
    if (model === undefined) return reply.code(404).send({ detail: `Application '${endpointId}' not found` })

    const webhookUrl = request.query.fal_webhook
    if (webhookUrl !== undefined && !isHttpUrl(webhookUrl)) {
      return reply.code(422).send({ detail: [{ loc: ['query', 'fal_webhook'], msg: 'invalid or missing URL scheme', type: 'value_error.url.scheme' }] })
    }
    const job = startJob(jobs, model, request.body, reply, webhookUrl)
    if (job === undefined) return reply
    const base = baseUrl(request)
    if (webhookUrl !== undefined) {
      webhooks.schedule(job.id, webhookUrl, jobs.completesAt(job), () => ({
        request_id: job.id, gateway_request_id: job.id, status: 'OK', payload: resultOf(job, base)
      }))
    }
    const view = jobs.view(job)
    return reply.header('x-fal-request-id', job.id).send({
      request_id: job.id,
      status: 'IN_QUEUE',
      queue_position: view.queuePosition,
      ...requestUrls(base, job)
    })
  }
  app.post<SubmitRoute>('/:owner/:alias', falHooks(hooks, 'submit', true), submit)
  app.post<SubmitRoute>('/:owner/:alias/*', falHooks(hooks, 'submit', true), submit)

  app.get<{ Params: RequestParams, Querystring: LogsQuery }>('/:owner/:alias/requests/:requestId/status', falHooks(hooks, 'status', true), async (request, reply) => {
    const job = findJob(request, reply, { detail: 'Request not found' })
    if (job === undefined) return reply
    const view = jobs.view(job)
    return reply
      .code(view.state === 'COMPLETED' ? 200 : 202)
      .send(statusBody(jobs, job, view, baseUrl(request), { logs: request.query.logs === '1' }))
  })

  app.get<{ Params: RequestParams, Querystring: LogsQuery }>('/:owner/:alias/requests/:requestId/status/stream', falHooks(hooks, 'stream', true), async (request, reply) => {
    const job = findJob(request, reply, { detail: 'Request not found' })
    if (job === undefined) return reply
    const logs = request.query.logs === '1'
    const base = baseUrl(request)
    const raw = reply.raw
    reply.hijack()
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-fal-request-id': job.id
    })

    let timer: NodeJS.Timeout | undefined
    let lastSent = ''
    let logsSent = 0
    const stop = (): void => {
      clearTimeout(timer)
      hooks.closing.removeEventListener('abort', end)
    }
    const end = (): void => {
      stop()
      raw.end()
    }
    // One event per change (state, queue position, new log lines); a comment line otherwise.
    const tick = (): void => {
      const now = Date.now()
      const view = jobs.view(job, now)
      const key = `${view.state}:${view.queuePosition}:${view.logCount}`
      if (key !== lastSent) {
        raw.write(`data: ${JSON.stringify(statusBody(jobs, job, view, base, { logs, fromLog: logsSent }))}\n\n`)
        lastSent = key
        logsSent = view.logCount
      } else {
        raw.write(': keep-alive\n\n')
      }
      if (view.state === 'COMPLETED') return end()
      const wait = (view.nextChangeAt ?? now + STREAM_KEEPALIVE_MS) - now
      timer = setTimeout(tick, Math.min(STREAM_KEEPALIVE_MS, Math.max(1, Math.ceil(wait))))
    }
    raw.once('close', stop)
    hooks.closing.addEventListener('abort', end, { once: true })
    tick()
  })

  app.get<{ Params: RequestParams }>('/:owner/:alias/requests/:requestId', falHooks(hooks, 'result', true), async (request, reply) => {
    const job = findJob(request, reply, { detail: 'Request not found' })
    if (job === undefined) return reply
    const view = jobs.view(job)
    if (view.state !== 'COMPLETED') return reply.code(400).send({ detail: 'Request is still in progress' })
    if (view.cancelled) return reply.code(400).send({ detail: 'Request was cancelled' })
    return reply.send(resultOf(job, baseUrl(request)))
  })

  app.put<{ Params: RequestParams }>('/:owner/:alias/requests/:requestId/cancel', falHooks(hooks, 'cancel', true), async (request, reply) => {
    const job = findJob(request, reply, { status: 'NOT_FOUND' })
    if (job === undefined) return reply
    if (!jobs.cancel(job)) return reply.code(400).send({ status: 'ALREADY_COMPLETED' })
    if (job.webhookUrl !== undefined) {
      webhooks.unschedule(job.id)
      webhooks.post(job.webhookUrl, { request_id: job.id, gateway_request_id: job.id, status: 'ERROR', payload: null, error: 'Request was cancelled' })
    }
    return reply.code(202).send({ status: 'CANCELLATION_REQUESTED' })
  })
}

function isHttpUrl (value: string): boolean {
  try {
    const url = new URL(value)
    return url.protocol === 'http:' || url.protocol === 'https:'
  } catch {
    return false
  }
}
