import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import type { TestGateway } from '../helpers/gateway.js'
import { ILLUSION } from '../routes/queue/queue-client.js'
import { FAL_OPERATION, ownedRequest, startFaultGateway, type Call } from './fault-client.js'

/** Waits (bounded) for `check`, so a broken gateway fails the test instead of hanging it. */
async function eventually (check: () => boolean | Promise<boolean>, maxMs = 20_000): Promise<boolean> {
  const deadline = Date.now() + maxMs
  while (Date.now() < deadline) {
    if (await check()) return true
    await sleep(20)
  }
  return false
}

async function emulatorConnections (gateway: TestGateway): Promise<number> {
  return await new Promise((resolve, reject) => {
    gateway.emulator.app.server.getConnections((error, count) => { error === null ? resolve(count) : reject(error) })
  })
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
