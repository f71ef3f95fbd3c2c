import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { TestGateway } from '../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../routes/queue/queue-client.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { FAL_OPERATION, ownedRequest, perform, startFaultGateway, type Call } from './fault-client.js'
import { startTcpProxy } from './tcp-proxy.js'

/** Waits (bounded) for `check`, so a broken gateway fails the test instead of hanging it. */
async function eventually (check: () => boolean | Promise<boolean>, maxMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(20)
  }
  return false
}

async function connectionsOf (server: TestGateway['app']['server']): Promise<number> {
  return await new Promise((resolve, reject) => {
    server.getConnections((error, count) => { error === null ? resolve(count) : reject(error) })
  })
}

async function emulatorConnections (gateway: TestGateway): Promise<number> {
  return await connectionsOf(gateway.emulator.app.server)
}

/** Requests running on both of the gateway's pools to fal: calls', and status streams'. */
function runningUpstreamRequests (gateway: TestGateway): number {
  const { pool, streamPool } = gateway.app.upstream
  return [pool, streamPool].reduce((sum, agent) =>
    sum + Object.values(agent.stats as Record<string, { running?: number }>).reduce((within, origin) => within + (origin.running ?? 0), 0), 0)
}

// Not a submit: once it has left for fal it is the client's job whatever the client does
// (test/plugins/app/jobs-hang-up.test.ts).
const PATHS: Record<'status' | 'result' | 'cancel' | 'stream', (requestId: string) => { path: string, init: RequestInit }> = {
  status: id => ({ path: `/queue/${ILLUSION}/requests/${id}/status`, init: {} }),
  result: id => ({ path: `/queue/${ILLUSION}/requests/${id}`, init: {} }),
  cancel: id => ({ path: `/queue/${ILLUSION}/requests/${id}/cancel`, init: { method: 'PUT' } }),
  stream: id => ({ path: `/queue/${ILLUSION}/requests/${id}/status/stream`, init: {} })
}

t.test('a client that leaves mid-call takes its call to fal with it', async t => {
  // Deadlines far away: only the client leaving can end these calls within the test.
  const gateway = await startFaultGateway(t, { UPSTREAM_TIMEOUT_MS: '30000', STREAM_TIMEOUT_MS: '30000' })
  for (const call of Object.keys(PATHS) as Array<keyof typeof PATHS & Call>) {
    const requestId = await ownedRequest(gateway)
    gateway.emulator.resetCalls()
    gateway.emulator.faults.set({ mode: 'hang', operations: [FAL_OPERATION[call]] })
    const { path, init } = PATHS[call](requestId)
    const client = new AbortController()
    const pending = fetch(gateway.url + path, { ...init, signal: client.signal }).catch((error: unknown) => error)
    t.ok(await eventually(() => gateway.emulator.callsOf(FAL_OPERATION[call]).length === 1), `${call}: fal received the call`)
    const hanging = await emulatorConnections(gateway)
    t.equal(runningUpstreamRequests(gateway), 1, `${call}: the gateway waits on fal`)

    client.abort()
    t.match(await pending, { name: 'AbortError' }, `${call}: the client gave up`)
    t.ok(await eventually(async () => await emulatorConnections(gateway) < hanging), `${call}: fal sees its socket close`)
    t.equal(runningUpstreamRequests(gateway), 0, `${call}: the gateway's pool has no request left open`)
    t.equal(gateway.emulator.callsOf(FAL_OPERATION[call]).length, 1, `${call}: nothing was retried for a client that left`)
    gateway.emulator.faults.clear()
  }
})

// Each of these waits on Redis for its rate count before anything else: a client can leave then.
const LEFT_DURING_ADMISSION: Call[] = ['status', 'result', 'cancel', 'stream', 'proxy-status', 'submit', 'proxy-submit']

t.test('a client that leaves while its request waits on admission sends nothing to fal and holds no stream slot', async t => {
  const redis = await startRedisServer()
  const redisLink = await startTcpProxy(redis.port)
  t.teardown(async () => {
    await redisLink.close()
    await redis.stop()
  })
  // Redis may stall for the whole test without a command timing out: only the client leaves.
  // Every poll asks fal (no freshness window): a poll sent for the gone client could not hide in the cache.
  const gateway = await startFaultGateway(t, { REDIS_URL: redisLink.url, REDIS_FAIL_MODE: 'closed', REDIS_COMMAND_TIMEOUT_MS: '60000', UPSTREAM_TIMEOUT_MS: '30000', POLL_PENDING_FRESH_MS: '0' })
  let requestId: string | undefined
  for (let i = 0; i < 50 && requestId === undefined; i++) {
    requestId = await ownedRequest(gateway).catch(async () => { await sleep(100); return undefined })
  }
  if (requestId === undefined) throw new Error('the gateway never reached Redis')
  const owned = requestId
  // The fence polls another job: it cannot share a call with the gone client's poll of `owned`.
  const fenceJob = await ownedRequest(gateway)

  for (const call of LEFT_DURING_ADMISSION) {
    gateway.emulator.resetCalls()
    const arrivedBefore = gateway.arrived.length
    const connectionsBefore = await connectionsOf(gateway.app.server)
    redisLink.pause()
    const client = new AbortController()
    const pending = leaveDuring(gateway, call, owned, client.signal)
    t.ok(await eventually(() => gateway.arrived.length > arrivedBefore), `${call}: the gateway took the request in`)
    client.abort()
    t.match(await pending, { name: 'AbortError' }, `${call}: the client gave up`)
    t.ok(await eventually(async () => await connectionsOf(gateway.app.server) <= connectionsBefore), `${call}: the gateway saw the client leave`)
    redisLink.resume()
    // Redis answers in order: once a later poll is answered, the gone client's admission has been.
    const fence = await perform(gateway, 'status', fenceJob)
    t.equal(fence.status, 202, `${call}: a later poll is answered normally`)
    // A submit has no request id yet when it reaches fal; the fence sends none.
    const sent = gateway.emulator.callsOf(FAL_OPERATION[call]).filter(sent => FAL_OPERATION[call] === 'submit' || sent.requestId === owned)
    t.equal(sent.length, 0, `${call}: fal received nothing for the client that left`)
    t.same([...gateway.app.streamSlots.held()], [], `${call}: no stream slot is held for the client that left`)
  }
})

/** `call` made with `signal`, never read: it resolves with how the client's side ended. */
async function leaveDuring (gateway: TestGateway, call: Call, requestId: string, signal: AbortSignal): Promise<unknown> {
  const queueTarget = `https://queue.fal.run/${ILLUSION}`
  const body = JSON.stringify(illusionInput)
  const init: RequestInit = ((): RequestInit => {
    switch (call) {
      case 'submit': return { method: 'POST', body, headers: { 'content-type': 'application/json' } }
      case 'proxy-submit': return { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-fal-target-url': queueTarget } }
      case 'proxy-status': return { headers: { 'x-fal-target-url': `${queueTarget}/requests/${requestId}/status` } }
      default: return PATHS[call as keyof typeof PATHS](requestId).init
    }
  })()
  const path = call === 'submit' ? `/queue/${ILLUSION}` : call.startsWith('proxy-') ? '/api/fal/proxy' : PATHS[call as keyof typeof PATHS](requestId).path
  return await fetch(gateway.url + path, { ...init, signal }).catch((error: unknown) => error)
}
