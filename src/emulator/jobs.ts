import { randomUUID } from 'node:crypto'
import type { EmulatedModel } from './models.js'

/**
 * A queued request. Its state is never stored: it follows from the time since submit, so a job is
 * a handful of fields and a million of them stay cheap.
 */
export interface Job {
  id: string
  model: EmulatedModel
  submittedAt: number
  seed: number
  width: number
  height: number
  alpha: boolean
  webhookUrl?: string
  cancelledAt?: number
}

export type JobState = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED'

export interface JobView {
  state: JobState
  queuePosition: number
  /** How many of the model's log lines have been emitted. */
  logCount: number
  cancelled: boolean
  /** When the view next changes (queue position, log line or state); undefined once completed. */
  nextChangeAt?: number
}

export interface Timing {
  queueMs: number
  processingMs: number
}

// A virtual queue: every job starts with QUEUE_DEPTH - 1 requests ahead, counting down to 0.
const QUEUE_DEPTH = 3
const DEFAULT_MAX_JOBS = 200_000
const JOB_TTL_MS = 60 * 60 * 1000

export class JobStore {
  readonly timing: Timing
  readonly #jobs = new Map<string, Job>()
  readonly #maxJobs: number

  constructor (timing: Timing, maxJobs = DEFAULT_MAX_JOBS) {
    this.timing = timing
    this.#maxJobs = maxJobs
  }

  get size (): number {
    return this.#jobs.size
  }

  add (fields: Omit<Job, 'id' | 'submittedAt'>, now = Date.now()): Job {
    this.#evict(now)
    const job: Job = { id: randomUUID(), submittedAt: now, ...fields }
    this.#jobs.set(job.id, job)
    return job
  }

  get (id: string): Job | undefined {
    return this.#jobs.get(id)
  }

  completesAt (job: Job): number {
    return job.submittedAt + this.timing.queueMs + this.timing.processingMs
  }

  /** Marks the job cancelled unless it already completed; returns whether it did. */
  cancel (job: Job, now = Date.now()): boolean {
    if (this.view(job, now).state === 'COMPLETED') return false
    job.cancelledAt = now
    return true
  }

  view (job: Job, now = Date.now()): JobView {
    const { queueMs, processingMs } = this.timing
    const lines = job.model.logs.length
    const at = job.cancelledAt ?? now
    const elapsed = at - job.submittedAt
    if (elapsed < queueMs) {
      const step = queueMs / QUEUE_DEPTH
      const passed = Math.floor(elapsed / step)
      if (job.cancelledAt !== undefined) return { state: 'COMPLETED', queuePosition: 0, logCount: 0, cancelled: true }
      return { state: 'IN_QUEUE', queuePosition: QUEUE_DEPTH - 1 - passed, logCount: 0, cancelled: false, nextChangeAt: job.submittedAt + (passed + 1) * step }
    }
    if (elapsed < queueMs + processingMs) {
      const step = processingMs / lines
      const logCount = Math.min(lines, Math.floor((elapsed - queueMs) / step) + 1)
      if (job.cancelledAt !== undefined) return { state: 'COMPLETED', queuePosition: 0, logCount, cancelled: true }
      return { state: 'IN_PROGRESS', queuePosition: 0, logCount, cancelled: false, nextChangeAt: job.submittedAt + queueMs + logCount * step }
    }
    return { state: 'COMPLETED', queuePosition: 0, logCount: lines, cancelled: job.cancelledAt !== undefined }
  }

  /** When log line `index` was emitted. */
  logTime (job: Job, index: number): number {
    return job.submittedAt + this.timing.queueMs + index * (this.timing.processingMs / job.model.logs.length)
  }

  // Map iteration is insertion order, so the oldest jobs are at the front.
  #evict (now: number): void {
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size < this.#maxJobs && now - job.submittedAt < JOB_TTL_MS) return
      this.#jobs.delete(id)
    }
  }
}
