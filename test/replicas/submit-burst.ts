import type { Test } from 'tap'
import { Pool } from 'undici'
import type { TestGateway } from '../helpers/gateway.js'
import { ILLUSION, illusionInput, type Route } from './cluster.js'

export const BURST = 1000
export const LIMIT = 10
// Sockets in flight at once, shared by the replicas: the burst is concurrent, not sequential.
const SOCKETS = 100

/** A submit rate limit of LIMIT a window that outlasts the test; nothing else binds. */
export const BURST_ENV = {
  RATE_LIMIT_SUBMIT_MAX: String(LIMIT),
  RATE_LIMIT_SUBMIT_WINDOW: '600000',
  MAX_IN_FLIGHT: '100000',
  DAILY_SUBMIT_QUOTA: '100000'
}

export interface Answer { status: number, code?: string, retryAfter?: string, requestId?: string }

/**
 * 1,000 submits from one client (one IP), all fired at once over `SOCKETS` keep-alive sockets,
 * spread round-robin over every replica and over both routes (typed and proxy).
 */
export async function burst (t: Test, gateways: TestGateway[]): Promise<Answer[]> {
  const pools = gateways.map(gateway => new Pool(gateway.url, { connections: SOCKETS / gateways.length, pipelining: 1 }))
  t.teardown(async () => { await Promise.all(pools.map(pool => pool.close())) })
  const body = JSON.stringify(illusionInput)
  const routes: Route[] = ['typed', 'proxy']
  return await Promise.all(Array.from({ length: BURST }, async (_, i) => {
    const pool = pools[i % pools.length] as Pool
    const route = routes[Math.floor(i / pools.length) % routes.length]
    const response = await pool.request(route === 'typed'
      ? { method: 'POST', path: `/queue/${ILLUSION}`, headers: { 'content-type': 'application/json' }, body }
      : { method: 'POST', path: '/api/fal/proxy', headers: { 'content-type': 'application/json', 'x-fal-target-url': `https://queue.fal.run/${ILLUSION}` }, body })
    const text = await response.body.text()
    const retryAfter = response.headers['retry-after']
    const parsed = JSON.parse(text) as { code?: string, request_id?: string }
    return {
      status: response.statusCode,
      code: response.statusCode >= 400 ? parsed.code : undefined,
      retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
      requestId: response.statusCode < 300 ? parsed.request_id : undefined
    }
  }))
}

/** Asserts exactly the limit got through, and returns how many got through beyond it (goal 0). */
export function checkBurst (t: Test, answers: Answer[], reachedFal: number, store: string): number {
  const admitted = answers.filter(answer => answer.status >= 200 && answer.status < 300)
  const refused = answers.filter(answer => answer.status === 429)
  t.same(answers.filter(answer => answer.status !== 429 && answer.status >= 300), [], 'every answer is an acceptance or a 429')
  t.equal(reachedFal, LIMIT, `exactly ${LIMIT} submits reached the emulator`)
  t.equal(admitted.length, LIMIT, `exactly ${LIMIT} clients were told their submit was accepted`)
  t.equal(refused.length, BURST - LIMIT, `the other ${BURST - LIMIT} were refused with 429`)
  t.ok(refused.every(answer => answer.code === 'RATE_LIMITED'), 'every refusal says RATE_LIMITED')
  t.ok(refused.every(answer => Number(answer.retryAfter) > 0), 'every refusal carries Retry-After')
  const overLimit = Math.max(0, reachedFal - LIMIT)
  t.comment(`requests admitted over the limit in the ${BURST}-request burst (${store}): ${overLimit}`)
  return overLimit
}
