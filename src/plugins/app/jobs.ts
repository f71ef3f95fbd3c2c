import fp from 'fastify-plugin'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import {
  ClientClosedRequest,
  ConcurrencyLimit,
  IdempotencyKeyReused,
  QuotaExceeded,
  StoreUnavailable
} from '../../errors/gateway-errors.js'
import { abortWhenClientLeaves } from '../../http/client-abort.js'
import { budgetExceeded, budgetHeaders } from '../../spend/budget-headers.js'
import { idempotencyScope, keyInUse, parseIdempotencyKey, requestFingerprint } from '../../spend/idempotency-key.js'
import { priceOutput, priceProduced } from '../../spend/output-price.js'
import type { StoredAnswer, SubmitIntent } from '../../spend/spend-store.js'
import { priceSubmit, type PricedEndpoint, type SubmitPrice } from '../../spend/submit-price.js'
import { confirmSubmit } from '../../spend/write-ahead.js'
import { falRefusedSubmit } from '../../upstream/submit-fate.js'

/** One submit, as any route that starts a paid job at fal hands it to the pipeline. */
export interface SubmitOrder {
  /** fal's endpoint id: what the job is priced by and its Idempotency-Key is scoped to. */
  endpointId: string
  /** The validated input, defaults applied: the price is read from it. */
  input: Record<string, unknown>
  /** Whatever else makes this a different request for the same key (the route, the webhook). */
  variant?: unknown
  /**
   * The call to fal that sends it: a queue submit, answered at once, or a run, answered with the
   * output. Its deadline is how long the job slot stays reserved before fal's answer confirms it.
   */
  sentBy: 'submit' | 'run'
  /**
   * Sends the job to fal, once. The client leaving must not abort it: a job that has left is the
   * client's. Resolves with fal's request id and the answer the client gets (and its key replays).
   */
  send: () => Promise<SentSubmit>
}

export interface SentSubmit {
  requestId: string
  answer: StoredAnswer
}

export interface SubmitOutcome extends SentSubmit {
  /** The answer of an earlier submit with the same Idempotency-Key: nothing was started. */
  replayed: boolean
}

declare module 'fastify' {
  interface FastifyInstance {
    jobs: {
      /**
       * The one submit pipeline of every route that starts a paid job: prices it, reserves the
       * money against every budget and writes the write-ahead record (or answers a repeated
       * Idempotency-Key), takes a job slot and a unit of the daily quota, calls fal, and records
       * the owner. Slot, quota and money go back only on proof that fal did not take the job.
       */
      submit: (request: FastifyRequest, reply: FastifyReply, order: SubmitOrder) => Promise<SubmitOutcome>
      /** fal reported the job done, failed or cancelled: it stops counting as in flight. */
      finished: (request: FastifyRequest, requestId: string) => void
      /** A status fal answered: COMPLETED frees the slot; COMPLETED with an error gives the money back. */
      statusSeen: (request: FastifyRequest, requestId: string, status: unknown) => void
      /** The result of a completed job: it is charged for what it produced. */
      resultSeen: (request: FastifyRequest, requestId: string, endpointId: string, output: unknown) => void
      /** fal accepted a cancel: the job is asked about once, and its money goes back if it never ran to success. */
      cancelled: (request: FastifyRequest, requestId: string, appId: string) => void
      /** Jobs this node submitted and has not seen finish (forgotten after JOB_TTL_MS): for metrics. */
      inFlightHere: () => number
    }
  }
}

/** A reserved slot outlives its call's deadline by this, so it never expires while fal may still answer. */
const SUBMIT_MARGIN_MS = 5_000
/** Finished jobs this node remembers having released, oldest forgotten first. */
const RELEASED_REMEMBERED = 10_000
/** Past this many jobs submitted here, the expired ones are forgotten before adding another. */
const SUBMITTED_SWEEP_AT = 100_000

interface SubmittedHere {
  expiresAt: number
  endpointId: string
  price: SubmitPrice | undefined
}

export default fp<{ config: Config }>(async function jobs (fastify, { config }) {
  const store = fastify.limitStore
  const { spend } = fastify
  const released = new Set<string>()
  const submittedHere = new Map<string, SubmittedHere>()
  const forgetExpired = (): void => {
    const now = Date.now()
    for (const [id, job] of submittedHere) if (job.expiresAt <= now) submittedHere.delete(id)
  }
  const failOpen = config.redis?.failMode === 'open'

  /** Once per request id and node: a second poll of a finished job changes nothing. */
  function releaseSlot (request: FastifyRequest, requestId: string): void {
    const id = requestId.toLowerCase()
    if (released.has(id)) return
    released.add(id)
    if (released.size > RELEASED_REMEMBERED) released.delete(released.values().next().value as string)
    spend.writeAhead.journal.markFinished(id)
    store.releaseJob({ requestId: id }).catch((error: unknown) => {
      released.delete(id)
      request.log.warn({ err: error }, 'could not release a finished job; its slot expires by itself')
    })
  }

  const settledHere = new Set<string>()
  /**
   * Money moves in the background: the client's answer never waits on the ledger. Once per job and
   * node: every poll of a finished job says the same again (the store would change nothing).
   */
  function moveMoney (request: FastifyRequest, requestId: string, what: string, step: () => Promise<unknown>): void {
    if (settledHere.has(requestId)) return
    settledHere.add(requestId)
    if (settledHere.size > RELEASED_REMEMBERED) settledHere.delete(settledHere.values().next().value as string)
    step().catch((error: unknown) => {
      settledHere.delete(requestId)
      request.log.warn({ err: error }, `could not ${what}; the reservation expires into a charge`)
    })
  }

  function finished (request: FastifyRequest, requestId: string): void {
    submittedHere.delete(requestId.toLowerCase())
    releaseSlot(request, requestId)
  }

  function priceOf (endpoint: PricedEndpoint | undefined, input: Record<string, unknown>): SubmitPrice | undefined {
    return endpoint === undefined ? undefined : priceSubmit(endpoint, input, spend.fallbackUnits)
  }

  fastify.decorate('jobs', {
    async submit (request, reply, order) {
      const key = parseIdempotencyKey(request.headers['idempotency-key'])
      const left = abortWhenClientLeaves(reply)
      const client = request.client
      const price = priceOf(fastify.catalog.find(order.endpointId), order.input)
      const now = Date.now()
      const intent: SubmitIntent = {
        reservationId: randomUUID(),
        clientId: client.id,
        tier: client.tier,
        endpointId: order.endpointId,
        amountMicros: price?.micros ?? 0,
        budgets: spend.budgetsFor(client),
        ...(key === undefined
          ? {}
          : { idempotency: { scope: idempotencyScope(client.id, order.endpointId, key), fingerprint: requestFingerprint({ input: order.input, variant: order.variant ?? null }) } }),
        at: now
      }

      // 1. Money and the write-ahead record, or the answer a repeated key already has.
      let recorded = true
      try {
        const begun = await spend.store.begin(intent)
        switch (begun.outcome) {
          case 'refused':
            reply.headers(budgetHeaders(begun.standings, now))
            throw budgetExceeded(begun.standing, intent.amountMicros, now)
          case 'replay':
            reply.header('idempotent-replayed', 'true')
            return { requestId: requestIdOf(begun.answer), answer: begun.answer, replayed: true }
          case 'in-flight': throw keyInUse(begun.unknown)
          case 'key-reused': throw new IdempotencyKeyReused()
          case 'reserved': reply.headers(budgetHeaders(begun.standings, now))
        }
      } catch (error) {
        // REDIS_FAIL_MODE=open serves clients no money limit applies to; a budget or a key needs the store.
        if (!(error instanceof StoreUnavailable && failOpen && intent.budgets.length === 0 && key === undefined)) throw error
        recorded = false
        request.log.warn('spend store unreachable: submit admitted unrecorded until the store returns (REDIS_FAIL_MODE=open, no budget applies)')
      }
      const giveBackMoney = async (): Promise<void> => {
        if (recorded) await spend.store.abort({ reservationId: intent.reservationId }).catch((error: unknown) => { request.log.warn({ err: error }, 'could not give back a reservation; it expires into a charge') })
      }

      // 2. A job slot and a unit of the daily quota.
      const clientId = client.id
      const reservationId = intent.reservationId
      const verdict = await store.reserveJob({
        clientId,
        reservationId,
        maxInFlight: request.tier.maxInFlight,
        dailyQuota: request.tier.dailySubmitQuota,
        ttlMs: config.upstreamTimeouts[order.sentBy] + SUBMIT_MARGIN_MS
      }).catch(async (error: unknown) => {
        await giveBackMoney()
        throw error
      })
      reply.header('x-jobs-in-flight', verdict.inFlight)
      reply.header('x-quota-remaining', Math.max(0, request.tier.dailySubmitQuota - verdict.quotaUsed))
      if (!verdict.ok) {
        await giveBackMoney()
        const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
        throw verdict.reason === 'QUOTA_EXCEEDED' ? new QuotaExceeded(retryAfterSeconds) : new ConcurrencyLimit(retryAfterSeconds)
      }
      const giveBack = async (): Promise<void> => {
        await giveBackMoney()
        await store.cancelReservation({ clientId, reservationId, refundQuota: true }).catch((error: unknown) => {
          request.log.warn({ err: error }, 'could not give back a job slot')
        })
      }

      // 3. Gone before anything left for fal: nothing to keep.
      if (left.aborted) {
        await giveBack()
        throw new ClientClosedRequest()
      }

      // 4. fal. From here the job may be the client's whatever the client does.
      let sent: SentSubmit
      try {
        sent = await order.send()
      } catch (error) {
        if (falRefusedSubmit(error)) {
          await giveBack()
        } else {
          // fal may have taken it: slot and quota stay spent, the money reserved until it expires into a charge.
          request.log.warn({ reservationId }, 'submit outcome unknown: its slot, quota and reservation are kept')
          if (recorded) await spend.store.leaveUnresolved({ reservationId }).catch(() => {})
        }
        throw error
      }

      // 5. Confirmed and owned, or journaled until the store can take it (write-ahead.ts).
      const accepted = { intent, requestId: sent.requestId, answer: sent.answer }
      if (recorded) {
        if (await confirmSubmit(spend.writeAhead, accepted) === 'journaled') spend.recoverSoon()
      } else {
        await spend.writeAhead.writeOwnership(accepted)
        spend.writeAhead.journal.add(accepted)
        spend.recoverSoon()
      }
      const requestId = sent.requestId.toLowerCase()
      if (submittedHere.size >= SUBMITTED_SWEEP_AT) forgetExpired()
      submittedHere.set(requestId, { expiresAt: Date.now() + config.jobTtlMs, endpointId: order.endpointId, price })
      return { ...sent, replayed: false }
    },

    finished,

    statusSeen (request, requestId, status) {
      const { status: state, error } = (typeof status === 'object' && status !== null ? status : {}) as { status?: unknown, error?: unknown }
      if (state !== 'COMPLETED') return
      finished(request, requestId)
      // fal bills successful outputs only: a job that ended in error (a cancel included) costs nothing.
      if (error !== undefined && error !== null) moveMoney(request, requestId.toLowerCase(), 'give back a failed job\'s money', async () => await spend.store.release({ requestId: requestId.toLowerCase() }))
    },

    resultSeen (request, requestId, endpointId, output) {
      const id = requestId.toLowerCase()
      const here = submittedHere.get(id)
      finished(request, requestId)
      const endpoint = fastify.catalog.find(here?.endpointId ?? endpointId)
      if (endpoint === undefined) return
      const produced = here?.price === undefined ? priceProduced(endpoint, output) : priceOutput(endpoint, output, here.price)
      moveMoney(request, id, 'settle a completed job', async () => await spend.settleCompleted({ requestId: id, estimatedMicros: produced }))
    },

    cancelled (request, requestId, appId) {
      finished(request, requestId)
      // A cancel fal accepted may still lose the race to a job already running: ask how it ended.
      moveMoney(request, `cancel:${requestId.toLowerCase()}`, 'learn how a cancelled job ended', async () => {
        // Past the poll cache's freshness window, so the answer is fal's after the cancel.
        await sleep(config.pollCache.pendingFreshMs + 50)
        const answer = await fastify.upstream.fal.status({ operation: 'status', appId, requestId, logs: false })
        const { status, error } = answer.body as { status?: unknown, error?: unknown }
        if (status === 'COMPLETED' && error !== undefined && error !== null) await spend.store.release({ requestId: requestId.toLowerCase() })
      })
    },

    inFlightHere () {
      forgetExpired()
      return submittedHere.size
    }
  })
}, { name: 'jobs', dependencies: ['limit-store', 'spend', 'upstream', 'catalog'] })

/** The request id in a stored answer (the typed route's and fal's answers both carry one). */
function requestIdOf (answer: StoredAnswer): string {
  try {
    const { request_id: requestId } = JSON.parse(answer.body) as { request_id?: unknown }
    return typeof requestId === 'string' ? requestId : ''
  } catch {
    return ''
  }
}
