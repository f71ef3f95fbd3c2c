import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { Redis } from 'ioredis'
import { createEmulator } from '../../src/emulator/emulator.js'
import { createRedisClient, waitForRedis } from '../../src/redis/redis-client.js'
import { createRedisLimitStore } from '../../src/limits/redis-store.js'
import { createRedisSpendStore } from '../../src/spend/redis-spend-store.js'
import type { SubmitIntent } from '../../src/spend/spend-store.js'
import { periodKey } from '../../src/spend/utc-periods.js'
import { ConfirmationJournal, confirmSubmit, recoverSubmits, type AcceptedSubmit, type RecoveryOutcome } from '../../src/spend/write-ahead.js'
import { idempotencyScope, requestFingerprint } from '../../src/spend/idempotency-key.js'
import { FAL_KEY } from '../helpers/gateway.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { SUITE_OPTIONS } from './spend-store-suite.js'

const LAYER = 'fal-ai/layer-diffusion'
const CLIENT = 'key:acme'

const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 60_000, processingMs: 60_000 })
const emulatorUrl = await emulator.listen()
t.teardown(() => emulator.close())

/** fal accepting a job: a real submit to the emulator, answering its request id. */
async function falAccepts (input: object): Promise<string> {
  const response = await fetch(`${emulatorUrl}/${LAYER}`, { method: 'POST', headers: { authorization: `Key ${FAL_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(input) })
  if (response.status !== 200) throw new Error(`emulator answered ${response.status}`)
  return ((await response.json()) as { request_id: string }).request_id
}

interface Replica {
  redis: Redis
  spend: ReturnType<typeof createRedisSpendStore>
  limits: ReturnType<typeof createRedisLimitStore>
  journal: ConfirmationJournal
  recoveries: RecoveryOutcome[]
  logs: Array<{ level: string, object: object, message: string }>
  deps: Parameters<typeof recoverSubmits>[0]
}

/** One gateway process's view: its own connection, journal and log, on a shared Redis namespace. */
async function replica (t: Test, url: string, prefix: string): Promise<Replica> {
  const redis = createRedisClient(url)
  t.teardown(() => redis.disconnect())
  await waitForRedis(redis)
  const spend = createRedisSpendStore({ ...SUITE_OPTIONS, client: redis, prefix: `${prefix}{spend}:` })
  const limits = createRedisLimitStore({ client: redis, prefix })
  const journal = new ConfirmationJournal()
  const recoveries: RecoveryOutcome[] = []
  const logs: Replica['logs'] = []
  const log = (level: string) => (object: object, message: string) => { logs.push({ level, object, message }) }
  const deps = {
    store: spend,
    journal,
    // What the submit path will pass: the limit store's ownership write, safe to repeat.
    writeOwnership: async ({ intent, requestId }: AcceptedSubmit) => {
      await limits.confirmJob({ clientId: intent.clientId, reservationId: intent.reservationId, requestId, ownershipTtlMs: 3_600_000, jobTtlMs: 3_600_000 })
    },
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    onRecovery: (outcome: RecoveryOutcome) => { recoveries.push(outcome) }
  }
  return { redis, spend, limits, journal, recoveries, logs, deps }
}

function submitIntent (body: object, key: string): SubmitIntent {
  return {
    reservationId: randomUUID(),
    clientId: CLIENT,
    tier: 'pro',
    endpointId: LAYER,
    amountMicros: 30_000,
    budgets: [{ name: 'client:day', scope: 'client', subject: `client:${CLIENT}`, period: 'day', limitMicros: 1_000_000 }],
    idempotency: { scope: idempotencyScope(CLIENT, LAYER, key), fingerprint: requestFingerprint({ body }) },
    at: Date.now()
  }
}

const answerFor = (requestId: string) => ({ statusCode: 202, contentType: 'application/json; charset=utf-8', body: JSON.stringify({ request_id: requestId, status: 'IN_QUEUE' }) })

async function eventually<T> (attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await sleep(50)
    }
  }
}

t.test('Redis killed between fal\'s acceptance and the ownership write: owned and charged once Redis returns, empty', async t => {
  const server = await startRedisServer()
  t.teardown(() => server.stop())
  const prefix = `wal-${randomUUID()}:`
  const gateway = await replica(t, server.url, prefix)
  emulator.resetCalls()

  const body = { prompt: 'a glass bottle' }
  const intent = submitIntent(body, 'double-click-1')
  t.match(await gateway.spend.begin(intent), { outcome: 'reserved' }, 'step one: the write-ahead record')
  const requestId = await falAccepts(body)
  await server.kill()
  t.equal(await confirmSubmit(gateway.deps, { intent, requestId, answer: answerFor(requestId) }), 'journaled', 'step two fails: Redis is gone')
  t.equal(gateway.journal.size, 1)
  t.match(gateway.logs.at(-1), { level: 'warn', object: { requestId, clientId: CLIENT } })

  t.match(await recoverSubmits(gateway.deps), { confirmed: 0, pending: 1 }, 'while Redis is away, nothing is lost')

  await server.start()
  const report = await eventually(async () => {
    const result = await recoverSubmits(gateway.deps)
    if (result.pending > 0) throw new Error('still pending')
    return result
  })
  t.match(report, { confirmed: 1, pending: 0 })
  t.same(gateway.recoveries, ['confirmed_late'], 'counted')
  t.match(gateway.logs.find(line => line.object !== undefined && (line.object as { recreated?: boolean }).recreated === true), { level: 'warn', object: { requestId, amountMicros: 30_000 } })

  t.equal(await gateway.limits.ownerOf(requestId), CLIENT, 'the job is owned by the client that paid for it')
  const totals = await gateway.spend.totals({ period: 'day', key: periodKey('day', intent.at), subjects: [`client:${CLIENT}`, 'global'] })
  t.same(totals[`client:${CLIENT}`], { reservedMicros: 30_000, chargedMicros: 0 }, 'and its price is reserved against its budget again')
  t.same(totals.global, { reservedMicros: 30_000, chargedMicros: 0 })
  const repeat = await gateway.spend.begin(submitIntent(body, 'double-click-1'))
  t.match(repeat, { outcome: 'replay', answer: { body: answerFor(requestId).body } }, 'a repeat of the key gets the same request id')
  t.equal(emulator.callsOf('submit').length, 1, 'fal received one job')
})

t.test('the gateway dies between the two steps: the record is charged, and its key never starts a second job', async t => {
  const server = await startRedisServer()
  t.teardown(() => server.stop())
  const prefix = `wal-${randomUUID()}:`
  const dying = await replica(t, server.url, prefix)
  emulator.resetCalls()

  const body = { prompt: 'a lighthouse' }
  const intent = submitIntent(body, 'crash-1')
  await dying.spend.begin(intent)
  await falAccepts(body)
  // The process ends here: its journal is gone with it. Another replica carries on.
  const survivor = await replica(t, server.url, prefix)
  t.match(await survivor.spend.begin(submitIntent(body, 'crash-1')), { outcome: 'in-flight', unknown: false }, 'meanwhile a repeat is 409')

  const report = await recoverSubmits(survivor.deps, intent.at + SUITE_OPTIONS.unconfirmedAfterMs)
  t.match(report, { expired: 1, unconfirmed: 1 })
  t.same(survivor.recoveries, ['charged_unconfirmed'])
  t.match(survivor.logs.find(line => line.level === 'error'), { object: { reservationId: intent.reservationId, clientId: CLIENT, chargedMicros: 30_000 } })
  const totals = await survivor.spend.totals({ period: 'day', key: periodKey('day', intent.at), subjects: [`client:${CLIENT}`] })
  t.same(totals[`client:${CLIENT}`], { reservedMicros: 0, chargedMicros: 30_000 }, 'charged, never forgiven')
  t.match(await survivor.spend.begin(submitIntent(body, 'crash-1')), { outcome: 'in-flight', unknown: true }, 'a repeat of the key is still refused: no second job')
  t.equal(emulator.callsOf('submit').length, 1, 'fal received one job')
  t.match(await recoverSubmits(survivor.deps, intent.at + SUITE_OPTIONS.unconfirmedAfterMs), { expired: 0, unconfirmed: 0 }, 'charged once')
})

t.test('the store answering again between runs: journaled confirmations are written in order, each once', async t => {
  const server = await startRedisServer()
  t.teardown(() => server.stop())
  const gateway = await replica(t, server.url, `wal-${randomUUID()}:`)
  const accepted = await Promise.all([1, 2, 3].map(async i => {
    const intent = submitIntent({ prompt: `job ${i}` }, `burst-${i}`)
    t.match(await gateway.spend.begin(intent), { outcome: 'reserved' })
    return { intent, requestId: await falAccepts({ prompt: `job ${i}` }) }
  }))
  await server.stop()
  for (const job of accepted) t.equal(await confirmSubmit(gateway.deps, job), 'journaled')
  await server.start()
  await eventually(async () => {
    if ((await recoverSubmits(gateway.deps)).pending > 0) throw new Error('still pending')
  })
  for (const { requestId } of accepted) t.equal(await gateway.limits.ownerOf(requestId), CLIENT)
  const totals = await gateway.spend.totals({ period: 'day', key: periodKey('day', accepted[0]!.intent.at), subjects: [`client:${CLIENT}`] })
  t.same(totals[`client:${CLIENT}`], { reservedMicros: 90_000, chargedMicros: 0 })
  t.same(gateway.recoveries, ['confirmed_late', 'confirmed_late', 'confirmed_late'])
})
