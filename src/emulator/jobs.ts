import { randomUUID } from 'node:crypto'
import { Type, type Static } from '@sinclair/typebox'
import type { EmulatedModel } from './models.js'

/**
 * A queued request. Its state is never stored: it follows from the time since submit (and the time
 * it spent held, see `hold`), so a job is a handful of fields and a million of them stay cheap.
 */
export interface Job {
  id: string
  model: EmulatedModel
  submittedAt: number
  seed: number
  width: number
  height: number
  alpha: boolean
  /** Images in the result (`num_images`); one when the input does not say. */
  images?: number
  webhookUrl?: string
  cancelledAt?: number
  /** The phases the job may not leave until released. */
  holds?: Set<HeldPhase>
  /** How long holds kept it waiting at the end of its queue phase, and of its processing. */
  queueHeldMs?: number
  processingHeldMs?: number
}

export type JobState = 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED'

/** The phases a test can hold a job in: it reaches the phase's end and waits there until released. */
export const HeldPhaseSchema = Type.Union([Type.Literal('IN_QUEUE'), Type.Literal('IN_PROGRESS')])
export type HeldPhase = Static<typeof HeldPhaseSchema>
const HELD_PHASES: readonly HeldPhase[] = ['IN_QUEUE', 'IN_PROGRESS']

export const HoldSchema = Type.Object({
  phase: HeldPhaseSchema,
  /** Only this job; otherwise every job that has not left the phase yet, and every new one. */
  requestId: Type.Optional(Type.String())
}, { additionalProperties: false })
export type Hold = Static<typeof HoldSchema>

export const ReleaseSchema = Type.Object({
  /** Only holds on this phase; otherwise on both. */
  phase: Type.Optional(HeldPhaseSchema),
  /** Only this job's holds; otherwise every job's, and new jobs are no longer held. */
  requestId: Type.Optional(Type.String())
}, { additionalProperties: false })
export type Release = Static<typeof ReleaseSchema>

/** `held`, or why not: no such job, or it has already left the phase. */
export type HoldOutcome = 'held' | 'not-found' | 'left-phase'

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
  /** Phases every new job is held in. */
  readonly #holdNew = new Set<HeldPhase>()
  readonly #timelineListeners: Array<(job: Job) => void> = []

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
    if (this.#holdNew.size > 0) job.holds = new Set(this.#holdNew)
    this.#jobs.set(job.id, job)
    return job
  }

  get (id: string): Job | undefined {
    return this.#jobs.get(id)
  }

  /** When the job completes; Infinity while a hold keeps that open. */
  completesAt (job: Job): number {
    if (job.holds !== undefined && job.holds.size > 0) return Infinity
    return this.#startsAt(job) + this.timing.processingMs + (job.processingHeldMs ?? 0)
  }

  /** Holds one job, or every job that has not left `phase` yet and every new one, at the phase's end. */
  hold ({ phase, requestId }: Hold, now = Date.now()): HoldOutcome {
    if (requestId === undefined) {
      this.#holdNew.add(phase)
      for (const job of this.#jobs.values()) this.#holdJob(job, phase, now)
      return 'held'
    }
    const job = this.#jobs.get(requestId)
    if (job === undefined) return 'not-found'
    return this.#holdJob(job, phase, now) ? 'held' : 'left-phase'
  }

  /** Lets held jobs go on from where they wait: the next phase starts now and runs its usual time. */
  release ({ phase, requestId }: Release = {}, now = Date.now()): void {
    const phases = phase === undefined ? HELD_PHASES : [phase]
    if (requestId === undefined) {
      for (const each of phases) this.#holdNew.delete(each)
      for (const job of this.#jobs.values()) this.#releaseJob(job, phases, now)
    } else {
      const job = this.#jobs.get(requestId)
      if (job !== undefined) this.#releaseJob(job, phases, now)
    }
  }

  /** The jobs held right now, and the phases new jobs will be held in. */
  get holds (): { newJobs: HeldPhase[], jobs: Array<{ requestId: string, phases: HeldPhase[] }> } {
    const jobs = [...this.#jobs.values()].filter(job => job.holds !== undefined && job.holds.size > 0 && job.cancelledAt === undefined)
    return { newJobs: [...this.#holdNew], jobs: jobs.map(job => ({ requestId: job.id, phases: [...job.holds ?? []] })) }
  }

  /** `listener` hears of every job whose completion time moved (held or released). */
  onTimelineChange (listener: (job: Job) => void): void {
    this.#timelineListeners.push(listener)
  }

  /** Marks the job cancelled unless it already completed; returns whether it did. */
  cancel (job: Job, now = Date.now()): boolean {
    if (this.view(job, now).state === 'COMPLETED') return false
    job.cancelledAt = now
    return true
  }

  // A held job runs its phase as usual, then waits at the phase's end: last in the queue (position
  // 0), or with every log line out; nextChangeAt stays open until it is released.
  view (job: Job, now = Date.now()): JobView {
    const { queueMs, processingMs } = this.timing
    const lines = job.model.logs.length
    const at = job.cancelledAt ?? now
    const startsAt = this.#startsAt(job)
    if (at < startsAt || job.holds?.has('IN_QUEUE') === true) {
      if (job.cancelledAt !== undefined) return { state: 'COMPLETED', queuePosition: 0, logCount: 0, cancelled: true }
      const step = queueMs / QUEUE_DEPTH
      // (A zero-length phase reaches its end at once, held or not.)
      const passed = step === 0 ? QUEUE_DEPTH - 1 : Math.min(QUEUE_DEPTH - 1, Math.floor((at - job.submittedAt) / step))
      const nextChangeAt = passed < QUEUE_DEPTH - 1 ? job.submittedAt + (passed + 1) * step : job.holds?.has('IN_QUEUE') === true ? undefined : startsAt
      return { state: 'IN_QUEUE', queuePosition: QUEUE_DEPTH - 1 - passed, logCount: 0, cancelled: false, nextChangeAt }
    }
    const completesAt = startsAt + processingMs + (job.processingHeldMs ?? 0)
    if (at < completesAt || job.holds?.has('IN_PROGRESS') === true) {
      const step = processingMs / lines
      const logCount = step === 0 ? lines : Math.min(lines, Math.floor((at - startsAt) / step) + 1)
      if (job.cancelledAt !== undefined) return { state: 'COMPLETED', queuePosition: 0, logCount, cancelled: true }
      const nextChangeAt = logCount < lines ? startsAt + logCount * step : job.holds?.has('IN_PROGRESS') === true ? undefined : completesAt
      return { state: 'IN_PROGRESS', queuePosition: 0, logCount, cancelled: false, nextChangeAt }
    }
    return { state: 'COMPLETED', queuePosition: 0, logCount: lines, cancelled: job.cancelledAt !== undefined }
  }

  /** When log line `index` was emitted. */
  logTime (job: Job, index: number): number {
    return this.#startsAt(job) + index * (this.timing.processingMs / job.model.logs.length)
  }

  /** When processing starts, once any hold on the queue phase is released. */
  #startsAt (job: Job): number {
    return job.submittedAt + this.timing.queueMs + (job.queueHeldMs ?? 0)
  }

  #holdJob (job: Job, phase: HeldPhase, now: number): boolean {
    const { state } = this.view(job, now)
    const left = state === 'COMPLETED' || (phase === 'IN_QUEUE' && state !== 'IN_QUEUE')
    if (left) return false
    ;(job.holds ??= new Set()).add(phase)
    this.#timelineChanged(job)
    return true
  }

  // Time spent waiting at a phase's end pushes everything after it back.
  #releaseJob (job: Job, phases: readonly HeldPhase[], now: number): void {
    const holds = job.holds
    if (holds === undefined || !phases.some(phase => holds.has(phase))) return
    if (phases.includes('IN_QUEUE') && holds.delete('IN_QUEUE')) {
      job.queueHeldMs = (job.queueHeldMs ?? 0) + Math.max(0, now - this.#startsAt(job))
    }
    // Still held in the queue, it has not reached the end of its processing yet.
    if (phases.includes('IN_PROGRESS') && holds.delete('IN_PROGRESS') && !holds.has('IN_QUEUE')) {
      const processedAt = this.#startsAt(job) + this.timing.processingMs + (job.processingHeldMs ?? 0)
      job.processingHeldMs = (job.processingHeldMs ?? 0) + Math.max(0, now - processedAt)
    }
    this.#timelineChanged(job)
  }

  #timelineChanged (job: Job): void {
    for (const listener of this.#timelineListeners) listener(job)
  }

  // Map iteration is insertion order, so the oldest jobs are at the front.
  #evict (now: number): void {
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size < this.#maxJobs && now - job.submittedAt < JOB_TTL_MS) return
      this.#jobs.delete(id)
    }
  }
}
