import type { FalPolls } from '../cache/cached-reader.js'
import type { FalJson } from '../upstream/fal-upstream.js'
import type { RequestRef } from '../upstream/fal-target.js'
import { payloadOf, type JobOutcome, type OutcomeStore } from './outcome-store.js'

export interface OutcomePollsOptions {
  outcomes: OutcomeStore
  /** fal's queue base URL (FAL_QUEUE_URL): the status answer names fal's URLs, as fal's own would. */
  queueBase: string
  /** A poll answered from an outcome, by operation. */
  onAnswered?: (operation: 'status' | 'result') => void
  /** The store could not answer: the poll goes to fal, as without webhooks. */
  onStoreError?: (error: unknown) => void
}

/** fal's COMPLETED status of a job whose outcome the webhook told. */
export function completedStatus (outcome: JobOutcome, { appId, requestId }: RequestRef, queueBase: string, logs: boolean): Record<string, unknown> {
  const request = `${queueBase}/${appId}/requests/${requestId}`
  return {
    status: 'COMPLETED',
    request_id: requestId,
    response_url: request,
    status_url: `${request}/status`,
    cancel_url: `${request}/cancel`,
    // The webhook carries no logs: an empty list, as fal gives a job that logged nothing.
    logs: logs ? [] : null,
    ...(outcome.error === undefined ? {} : { error: outcome.error })
  }
}

/**
 * Polls of a job whose verified outcome is recorded are answered by the gateway, on every replica:
 * its status is COMPLETED, and an OK outcome's result is the webhook's payload. fal is asked only
 * when the gateway does not know the outcome (the job is pending, or its webhook is late or lost),
 * when the store cannot answer, and for the result of an ERROR outcome or of one whose payload was
 * too large to keep (fal's answer is then kept by the poll cache, so it is fetched once).
 */
export function createOutcomePolls (polls: FalPolls, { outcomes, queueBase, onAnswered, onStoreError }: OutcomePollsOptions): FalPolls {
  async function known (requestId: string): Promise<JobOutcome | undefined> {
    try {
      return await outcomes.get(requestId.toLowerCase())
    } catch (error) {
      onStoreError?.(error)
      return undefined
    }
  }

  return {
    async status (target, signal): Promise<FalJson> {
      const outcome = await known(target.requestId)
      if (outcome === undefined) return await polls.status(target, signal)
      onAnswered?.('status')
      return { statusCode: 200, body: completedStatus(outcome, target, queueBase, target.logs) }
    },
    async result (target, signal): Promise<FalJson> {
      const outcome = await known(target.requestId)
      const payload = outcome?.status === 'OK' ? payloadOf(outcome) : undefined
      if (payload === undefined || payload === null) return await polls.result(target, signal)
      onAnswered?.('result')
      return { statusCode: 200, body: payload }
    }
  }
}
