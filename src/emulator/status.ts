import type { Job, JobStore, JobView } from './jobs.js'

export interface RequestUrls {
  status_url: string
  response_url: string
  cancel_url: string
}

/** Status, result and cancel URLs name the app without any sub-path, like fal's. */
export function requestUrls (baseUrl: string, job: Job): RequestUrls {
  const response = `${baseUrl}/${job.model.appId}/requests/${job.id}`
  return { status_url: `${response}/status`, response_url: response, cancel_url: `${response}/cancel` }
}

export interface StatusOptions {
  /** Include log lines (`?logs=1`); otherwise `logs` is an empty list. */
  logs: boolean
  /** First log line to include: the SSE stream sends each line once. */
  fromLog?: number
}

/**
 * The status JSON fal answers on submit, status and the status stream.
 * A cancelled request reports COMPLETED with `error`/`error_type` and no metrics: fal removes a
 * cancelled request from the queue and the emulator models that as a request that ended in error
 * (its result then answers 400). This is the emulator's simplification, not a documented fal shape.
 */
export function statusBody (jobs: JobStore, job: Job, view: JobView, baseUrl: string, options: StatusOptions): Record<string, unknown> {
  const base = { request_id: job.id, status: view.state, ...requestUrls(baseUrl, job) }
  if (view.state === 'IN_QUEUE') return { ...base, queue_position: view.queuePosition }
  const logs = options.logs ? logLines(jobs, job, options.fromLog ?? 0, view.logCount) : []
  if (view.state === 'IN_PROGRESS') return { ...base, logs }
  if (view.cancelled) return { ...base, logs, error: 'Request was cancelled', error_type: 'request_cancelled' }
  return { ...base, logs, metrics: { inference_time: jobs.timing.processingMs / 1000 } }
}

function logLines (jobs: JobStore, job: Job, from: number, to: number): Array<Record<string, string>> {
  return job.model.logs.slice(from, to).map((message, offset) => ({
    message,
    level: 'INFO',
    source: 'USER',
    timestamp: new Date(jobs.logTime(job, from + offset)).toISOString()
  }))
}
