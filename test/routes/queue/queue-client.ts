import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { json, startGateway, type GatewayOptions, type TestGateway, type TestResponse } from '../../helpers/gateway.js'

export const ILLUSION = 'fal-ai/illusion-diffusion'
export const LAYER = 'fal-ai/layer-diffusion'

export const illusionInput = { image_url: 'https://example.com/pattern.png', prompt: 'a medieval village' }
export const layerInput = { prompt: 'a glass bottle' }

/**
 * `startGateway` without load shedding: on a loaded test machine the event loop lags past
 * MAX_EVENT_LOOP_DELAY_MS while modules load, and the first requests would get 503 OVERLOADED.
 */
export async function startQueueGateway (t: Test, options: GatewayOptions = {}): Promise<TestGateway> {
  return await startGateway(t, { ...options, env: { MAX_EVENT_LOOP_DELAY_MS: '0', ...options.env } })
}

/** A well-formed request id fal never issued. */
export const UNKNOWN_REQUEST_ID = '2b5f2d6e-9c1a-4f7e-8b3d-0a1c2e3f4a5b'

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
 * broken gateway fails the test instead of hanging it.
 */
export async function pollUntilCompleted (gateway: TestGateway, statusPath: string, maxMs = 20_000): Promise<TestResponse[]> {
  const answers: TestResponse[] = []
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    const answer = await gateway.request(statusPath)
    answers.push(answer)
    if (answer.status !== 202) return answers
    await sleep(40)
  }
  return answers
}
