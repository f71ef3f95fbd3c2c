import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { falHooks, type FalHooksContext } from './fal-hooks.js'
import { resultOf } from './sample-output.js'
import type { Job, JobStore } from './jobs.js'
import type { EmulatedModel } from './models.js'
import { startJob } from './start-job.js'

export interface RunRoutesOptions {
  hooks: FalHooksContext
  jobs: JobStore
  models: ReadonlyMap<string, EmulatedModel>
  baseUrl (request: FastifyRequest): string
}

interface RunParams { owner: string, alias: string, '*'?: string }

/** fal's run host lives under this prefix of the emulator's one port (FAL_RUN_URL=<emulator>/run). */
export const RUN_PREFIX = '/run'

// Held jobs change only when released: look again this often. The stream's client gives up
// after 15 s of silence, so keep-alives go out well inside that.
const RECHECK_MS = 50
const KEEPALIVE_MS = 1000

/**
 * fal's run host: `POST /{app}` runs the model and answers its output once done (`fal.run`);
 * `POST /{app}/stream` answers server-sent events (`fal.stream`) for apps that stream (404 for
 * the others): one `{ progress, message }` event per log line while the job runs, then the
 * output itself as the last event. Each run is a job of the queue's store, so the same timing
 * and holds drive it.
 */
export function runRoutes (app: FastifyInstance, options: RunRoutesOptions): void {
  const { hooks, jobs, models, baseUrl } = options

  /** The job for a valid input, or undefined after answering fal's 404 or 422. */
  function startRun (request: FastifyRequest<{ Params: RunParams }>, reply: FastifyReply, subPath: string, streamed: boolean): Job | undefined {
    const { owner, alias } = request.params
    const endpointId = subPath === '' ? `${owner}/${alias}` : `${owner}/${alias}/${subPath}`
    const model = models.get(endpointId)
    if (model === undefined || (streamed && !model.streams)) {
      reply.code(404).send({ detail: model === undefined ? `Application '${endpointId}' not found` : 'Not Found' })
      return undefined
    }
    return startJob(jobs, model, request.body, reply)
  }

  /** Calls `onChange` at every change of the job's view until it completes or `gone` fires. */
  function follow (job: Job, gone: AbortSignal, onChange: (done: boolean) => void): void {
    let timer: NodeJS.Timeout | undefined
    let lastKey = ''
    const stop = (): void => { clearTimeout(timer) }
    gone.addEventListener('abort', stop, { once: true })
    const tick = (): void => {
      const now = Date.now()
      const view = jobs.view(job, now)
      const key = `${view.state}:${view.logCount}`
      const done = view.state === 'COMPLETED'
      if (key !== lastKey || done) onChange(done)
      lastKey = key
      if (done) return stop()
      const wait = view.nextChangeAt === undefined ? RECHECK_MS : view.nextChangeAt - now
      timer = setTimeout(tick, Math.min(RECHECK_MS, Math.max(1, Math.ceil(wait))))
    }
    tick()
  }

  /** Aborts when the caller leaves or the emulator closes. */
  function goneSignal (reply: FastifyReply): AbortSignal {
    const controller = new AbortController()
    const leave = (): void => { controller.abort() }
    reply.raw.once('close', leave)
    hooks.closing.addEventListener('abort', leave, { once: true })
    controller.signal.addEventListener('abort', () => { hooks.closing.removeEventListener('abort', leave) }, { once: true })
    return controller.signal
  }

  const run = async (request: FastifyRequest<{ Params: RunParams }>, reply: FastifyReply): Promise<FastifyReply> => {
    const job = startRun(request, reply, request.params['*'] ?? '', false)
    if (job === undefined) return reply
    const base = baseUrl(request)
    const gone = goneSignal(reply)
    await new Promise<void>(resolve => {
      gone.addEventListener('abort', () => { resolve() }, { once: true })
      follow(job, gone, done => { if (done) resolve() })
    })
    if (gone.aborted) return reply
    return reply.header('x-fal-request-id', job.id).send(resultOf(job, base))
  }

  const stream = async (request: FastifyRequest<{ Params: RunParams }>, reply: FastifyReply): Promise<FastifyReply> => {
    const job = startRun(request, reply, '', true)
    if (job === undefined) return reply
    const base = baseUrl(request)
    const raw = reply.raw
    reply.hijack()
    raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-fal-request-id': job.id })
    const gone = goneSignal(reply)
    const keepAlive = setInterval(() => { raw.write(': keep-alive\n\n') }, KEEPALIVE_MS)
    gone.addEventListener('abort', () => { clearInterval(keepAlive) }, { once: true })
    let sent = 0
    follow(job, gone, done => {
      const { logCount } = jobs.view(job)
      const lines = job.model.logs
      for (; sent < logCount; sent++) {
        raw.write(`data: ${JSON.stringify({ progress: (sent + 1) / lines.length, message: lines[sent] })}\n\n`)
      }
      if (!done) return
      clearInterval(keepAlive)
      raw.end(`data: ${JSON.stringify(resultOf(job, base))}\n\n`)
    })
    return reply
  }

  app.register(async scope => {
    scope.post<{ Params: RunParams }>('/:owner/:alias/stream', falHooks(hooks, 'run-stream', true), stream)
    scope.post<{ Params: RunParams }>('/:owner/:alias', falHooks(hooks, 'run', true), run)
    scope.post<{ Params: RunParams }>('/:owner/:alias/*', falHooks(hooks, 'run', true), run)
  }, { prefix: RUN_PREFIX })
}
