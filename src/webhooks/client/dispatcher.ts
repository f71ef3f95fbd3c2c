import type { FastifyBaseLogger } from 'fastify'
import type { ClientDelivery, DeliveryQueue } from './delivery-queue.js'
import type { SendResult } from './send-webhook.js'

export interface DispatcherOptions {
  queue: DeliveryQueue
  send: (delivery: ClientDelivery) => Promise<SendResult>
  log: FastifyBaseLogger
  maxAttempts: number
  retryBaseMs: number
  retryMaxMs: number
  /** How long a claimed delivery is leased: longer than one attempt can take. */
  leaseMs: number
  /** How often the queue is looked at when nothing woke the dispatcher sooner. */
  pollMs: number
  onSent?: () => void
  onFailedAttempt?: () => void
  onDeadLetter?: () => void
}

const BATCH = 16

/** Doubling backoff from `base`, capped at `max`, for the attempt that just failed (1-based). */
export function retryDelayMs (attempt: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(attempt - 1, 30))
}

/**
 * Works the queue on this replica: claims what is due, sends it, then settles each delivery —
 * done, due again after a backoff, or a dead letter after its last attempt (or at once when it can
 * never succeed, e.g. a host taken off the allowlist). Every replica runs one; the claim's lease
 * keeps two from sending the same delivery at once.
 */
export function startDispatcher (options: DispatcherOptions) {
  const { queue, log } = options
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false

  async function settle (delivery: ClientDelivery, result: SendResult): Promise<void> {
    if (result.ok) {
      options.onSent?.()
      await queue.succeeded(delivery.id)
      return
    }
    options.onFailedAttempt?.()
    const attempts = delivery.attempts + 1
    const failed = { ...delivery, attempts, lastError: result.error }
    const giveUp = result.permanent || attempts >= options.maxAttempts
    if (giveUp) {
      options.onDeadLetter?.()
      log.warn({ falRequestId: delivery.requestId, attempts, error: result.error }, 'client webhook given up: dead letter')
    }
    await queue.failed(failed, giveUp ? undefined : Date.now() + retryDelayMs(attempts, options.retryBaseMs, options.retryMaxMs))
  }

  async function work (): Promise<void> {
    for (;;) {
      again = false
      let batch: ClientDelivery[]
      try {
        batch = await queue.claim(Date.now(), options.leaseMs, BATCH)
      } catch (error) {
        log.warn({ err: error }, 'client webhooks: the queue is unreachable')
        return
      }
      await Promise.all(batch.map(async delivery => {
        const result = await options.send(delivery)
        await settle(delivery, result).catch((error: unknown) => {
          // The lease ends by itself: the delivery is due again, at least once.
          log.warn({ err: error, falRequestId: delivery.requestId }, 'client webhook: could not record the attempt')
        })
      }))
      if (batch.length === BATCH) again = true
      if (!again || stopped) return
    }
  }

  function run (): void {
    if (stopped) return
    if (running !== undefined) {
      again = true
      return
    }
    clearTimeout(timer)
    running = work().finally(() => {
      running = undefined
      if (!stopped) timer = setTimeout(run, options.pollMs)
    })
  }

  run()
  return {
    /** Something became due now: look at once rather than at the next poll. */
    wake: run,
    /** Stops claiming; waits for the attempts under way (each bounded by its timeout). */
    async stop (): Promise<void> {
      stopped = true
      clearTimeout(timer)
      await running
    }
  }
}
