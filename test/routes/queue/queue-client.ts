import { setTimeout as sleep } from 'node:timers/promises'
import { json, startGateway, type TestGateway, type TestResponse } from '../../helpers/gateway.js'

import { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, illusionInput, layerInput } from '../../helpers/fixtures.js'

export { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, illusionInput, layerInput }

/** The gateway helper already turns load shedding off for tests; this is the same call. */
export { startGateway as startQueueGateway }

export async function submit (gateway: TestGateway, appId: string, input: unknown, query = ''): Promise<TestResponse> {
  return await gateway.request(`/queue/${appId}${query}`, json(input))
}

/** The path part of an URL the gateway handed out, to request it through the recording helper. */
export function pathOf (url: string): string {
  const parsed = new URL(url)
  return parsed.pathname + parsed.search
}

/**
 * Polls `statusPath` until fal reports COMPLETED, keeping every answer. Bounded by `maxMs` so a
 * broken gateway fails the test instead of hanging it. With `releaseSeenPhases`, each phase the
 * emulator holds the job in (see `holdEveryPhase`) is released once a poll has seen it.
 */
export async function pollUntilCompleted (gateway: TestGateway, statusPath: string, maxMs = 20_000, { releaseSeenPhases = false } = {}): Promise<TestResponse[]> {
  const answers: TestResponse[] = []
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    const answer = await gateway.request(statusPath)
    answers.push(answer)
    if (answer.status !== 202) return answers
    const { status, request_id: requestId } = answer.json<{ status: string, request_id: string }>()
    if (releaseSeenPhases && (status === 'IN_QUEUE' || status === 'IN_PROGRESS')) gateway.emulator.jobs.release({ phase: status, requestId })
    await sleep(40)
  }
  return answers
}

/** Every job submitted from now on waits at the end of its queue and of its processing. */
export function holdEveryPhase (gateway: TestGateway): void {
  gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
  gateway.emulator.jobs.hold({ phase: 'IN_PROGRESS' })
}
