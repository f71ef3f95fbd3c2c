import { setTimeout as sleep } from 'node:timers/promises'
import type { Test } from 'tap'
import { Pool } from 'undici'
import { startRedisSentinelGroup, type RedisSentinelGroup } from '../helpers/redis-topologies.js'
import { ILLUSION, illusionInput, operateVia, startCluster } from './cluster.js'

/** Anonymous clients, told apart by the address a trusted proxy (the test) forwards. */
export const CLIENTS = 10
/** Each client's daily submit quota: the limit the failover must not let anyone pass. */
export const QUOTA = 10
const WORKERS = 40
/** Generous: a failover takes seconds; this only stops a test that would otherwise hang. */
const DEADLINE_MS = 60_000
// Journals are retried every 200 ms once a master answers; generous for a loaded machine.
const JOURNAL_DEADLINE_MS = 30_000

export interface Submitted { client: number, status: number, code?: string, requestId?: string, sentAt: number, at: number }

export interface FailoverRun {
  answers: Submitted[]
  /**
   * Admitted submits answered in the REPLICATION_LAG_MS before the kill: the most whose writes the
   * old master alone can have held (what asynchronous replication can lose, docs/redis.md).
   */
  admittedJustBeforeKill: number
  /** Admitted per client. */
  admitted: number[]
  /** Admitted jobs whose owner reads a 404 after the failover. */
  unowned: string[]
  /** Jobs fal received in all. */
  reachedFal: number
}

const forwardedFor = (client: number): string => `198.51.100.${client + 1}`

/** The replication lag docs/redis.md bounds a failover's loss by: a healthy replica's, at most. */
export const REPLICATION_LAG_MS = 1000

/**
 * Two gateways on a Sentinel group, CLIENTS clients submitting as fast as WORKERS sockets allow.
 * Once half of all quotas are admitted the master is killed; submits go on through the failover
 * until the new master has refused every client's submit at least once.
 */
export async function runFailover (t: Test, options: { waitReplicas: number }): Promise<FailoverRun> {
  const group: RedisSentinelGroup = await startRedisSentinelGroup()
  t.teardown(() => group.stop())
  const cluster = await startCluster(t, {
    replicas: 2,
    redis: false,
    env: {
      REDIS_SENTINELS: group.sentinels.map(({ host, port }) => `${host}:${port}`).join(','),
      REDIS_SENTINEL_NAME: group.masterName,
      REDIS_COMMAND_TIMEOUT_MS: '3000',
      REDIS_WAIT_REPLICAS: String(options.waitReplicas),
      REDIS_WAIT_TIMEOUT_MS: '250',
      TRUST_PROXY: '127.0.0.1/32',
      DAILY_SUBMIT_QUOTA: String(QUOTA),
      MAX_IN_FLIGHT: '100000',
      RATE_LIMIT_SUBMIT_MAX: '100000',
      RATE_LIMIT_SUBMIT_WINDOW: '600000'
    }
  })
  const pools = cluster.gateways.map(gateway => new Pool(gateway.url, { connections: WORKERS / cluster.gateways.length, pipelining: 1 }))
  t.teardown(async () => { await Promise.all(pools.map(pool => pool.close())) })

  const answers: Submitted[] = []
  const admittedCount = (): number => answers.filter(answer => answer.status < 300).length
  let promotedAt: number | undefined
  let stopped = false
  const refusedAfterPromotion = new Set<number>()
  const body = JSON.stringify(illusionInput)
  let next = 0
  const worker = async (index: number): Promise<void> => {
    const pool = pools[index % pools.length] as Pool
    while (!stopped) {
      const client = next++ % CLIENTS
      const sentAt = Date.now()
      const response = await pool.request({
        method: 'POST',
        path: `/queue/${ILLUSION}`,
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor(client) },
        body
      })
      const parsed = JSON.parse(await response.body.text()) as { code?: string, request_id?: string }
      const answer: Submitted = { client, status: response.statusCode, sentAt, at: Date.now() }
      if (response.statusCode < 300) answer.requestId = parsed.request_id
      else answer.code = parsed.code
      answers.push(answer)
      if (promotedAt !== undefined && answer.code === 'QUOTA_EXCEEDED') refusedAfterPromotion.add(client)
      if (refusedAfterPromotion.size === CLIENTS) stopped = true
      // A refused or failed submit costs nothing: do not spin while Redis is away.
      if (response.statusCode === 503) await sleep(20)
    }
  }
  const workers = Promise.all(Array.from({ length: WORKERS }, (_, i) => worker(i)))
  const until = async (what: string, condition: () => boolean, deadlineMs = DEADLINE_MS): Promise<void> => {
    const from = Date.now()
    while (!condition()) {
      if (Date.now() - from > deadlineMs) {
        stopped = true
        throw new Error(`${what} within ${deadlineMs} ms`)
      }
      await sleep(5)
    }
  }
  let killedAt = 0
  try {
    await until('half of the quotas admitted', () => admittedCount() >= (CLIENTS * QUOTA) / 2)
    killedAt = Date.now()
    await group.killMaster()
    promotedAt = Date.now()
    t.comment(`master killed with ${admittedCount()} admitted; a replica promoted ${promotedAt - killedAt} ms later`)
    await until('every client refused by the new master', () => stopped)
  } finally {
    stopped = true
    await workers
  }
  const admitted = Array.from({ length: CLIENTS }, (_, client) => answers.filter(answer => answer.client === client && answer.status < 300).length)
  // A job whose ownership could not be written (no master, or no replica acknowledging it) waits in
  // its replica's journal, retried until the store takes it: "after the failover" means once it has.
  await until('every replica\'s journal written', () => cluster.gateways.every(gateway => gateway.app.spend.writeAhead.journal.size === 0), JOURNAL_DEADLINE_MS)
  const unowned: string[] = []
  for (const answer of answers) {
    if (answer.requestId === undefined) continue
    const status = await operateVia(cluster.gateways[answer.client % cluster.gateways.length]!, 'typed', 'status', answer.requestId, { headers: { 'x-forwarded-for': forwardedFor(answer.client) } })
    if (status.status === 404) unowned.push(answer.requestId)
  }
  const admittedJustBeforeKill = answers.filter(answer => answer.status < 300 && answer.sentAt < killedAt && answer.at >= killedAt - REPLICATION_LAG_MS).length
  return { answers, admittedJustBeforeKill, admitted, unowned, reachedFal: cluster.emulator.callsOf('submit').length }
}

/** Every answer is an admission, a quota refusal, or (while Redis fails over) a 503. */
export function unexpectedAnswers (answers: Submitted[]): Submitted[] {
  return answers.filter(answer => !(answer.status === 202 || (answer.status === 429 && answer.code === 'QUOTA_EXCEEDED') || (answer.status === 503 && answer.code === 'STORE_UNAVAILABLE')))
}
