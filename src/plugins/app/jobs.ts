import fp from 'fastify-plugin'
import { randomUUID } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../../config.js'
import { ConcurrencyLimit, QuotaExceeded } from '../../errors/gateway-errors.js'

declare module 'fastify' {
  interface FastifyInstance {
    jobs: {
      /**
       * Runs a submit inside a job slot: refuses with 429 when the client has too many jobs in
       * flight or has used its daily quota; on success records the client as the request's
       * owner; on failure gives the slot and the quota back.
       */
      submit: (request: FastifyRequest, reply: FastifyReply, send: () => Promise<string>) => Promise<string>
      /** fal reported the job done, failed or cancelled: it stops counting as in flight. */
      finished: (request: FastifyRequest, requestId: string) => void
      /** Jobs this node submitted and has not seen finish (forgotten after JOB_TTL_MS): for metrics. */
      inFlightHere: () => number
    }
  }
}

const SUBMIT_MARGIN_MS = 5_000
/** Finished jobs this node remembers having released, oldest forgotten first. */
const RELEASED_REMEMBERED = 10_000
/** Past this many jobs submitted here, the expired ones are forgotten before adding another. */
const SUBMITTED_SWEEP_AT = 100_000

export default fp<{ config: Config }>(async function jobs (fastify, { config }) {
  const store = fastify.limitStore
  const released = new Set<string>()
  const submittedHere = new Map<string, number>()
  const forgetExpired = (): void => {
    const now = Date.now()
    for (const [id, expiresAt] of submittedHere) if (expiresAt <= now) submittedHere.delete(id)
  }

  fastify.decorate('jobs', {
    async submit (request, reply, send) {
      const clientId = request.client.id
      const reservationId = randomUUID()
      const verdict = await store.reserveJob({
        clientId,
        reservationId,
        maxInFlight: request.tier.maxInFlight,
        dailyQuota: request.tier.dailySubmitQuota,
        ttlMs: config.upstreamTimeouts.submit + SUBMIT_MARGIN_MS
      })
      if (!verdict.ok) {
        reply.header('x-jobs-in-flight', verdict.inFlight)
        reply.header('x-quota-remaining', Math.max(0, request.tier.dailySubmitQuota - verdict.quotaUsed))
        const retryAfterSeconds = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000))
        throw verdict.reason === 'QUOTA_EXCEEDED' ? new QuotaExceeded(retryAfterSeconds) : new ConcurrencyLimit(retryAfterSeconds)
      }
      // An admitted verdict already counts this submit.
      reply.header('x-jobs-in-flight', verdict.inFlight)
      reply.header('x-quota-remaining', Math.max(0, request.tier.dailySubmitQuota - verdict.quotaUsed))
      let requestId: string
      try {
        requestId = await send()
      } catch (error) {
        await store.cancelReservation({ clientId, reservationId, refundQuota: true }).catch((storeError: unknown) => {
          request.log.warn({ err: storeError }, 'could not give back a job slot')
        })
        throw error
      }
      await store.confirmJob({
        clientId,
        reservationId,
        requestId: requestId.toLowerCase(),
        ownershipTtlMs: config.ownershipTtlMs,
        jobTtlMs: config.jobTtlMs
      })
      if (submittedHere.size >= SUBMITTED_SWEEP_AT) forgetExpired()
      submittedHere.set(requestId.toLowerCase(), Date.now() + config.jobTtlMs)
      return requestId
    },

    finished (request, requestId) {
      const id = requestId.toLowerCase()
      submittedHere.delete(id)
      // Every poll of a finished job says so again; one release is enough.
      if (released.has(id)) return
      released.add(id)
      if (released.size > RELEASED_REMEMBERED) released.delete(released.values().next().value as string)
      store.releaseJob({ requestId: id }).catch((error: unknown) => {
        released.delete(id)
        request.log.warn({ err: error }, 'could not release a finished job; its slot expires by itself')
      })
    },

    inFlightHere () {
      forgetExpired()
      return submittedHere.size
    }
  })
}, { name: 'jobs', dependencies: ['limit-store'] })
