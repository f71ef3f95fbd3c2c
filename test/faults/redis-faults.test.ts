import { setTimeout as sleep } from 'node:timers/promises'
import t, { type Test } from 'tap'
import type { TestGateway } from '../helpers/gateway.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { MARGIN_MS, checkFailure, ownedRequest, perform, startFaultGateway, timed, type Call } from './fault-client.js'
import { startTcpProxy } from './tcp-proxy.js'

const COMMAND_TIMEOUT_MS = 300
const CALLS: Call[] = ['submit', 'status', 'result', 'cancel', 'stream', 'proxy-submit', 'proxy-status', 'proxy-upload']

async function setup (t: Test) {
  const redis = await startRedisServer()
  const proxy = await startTcpProxy(redis.port)
  t.teardown(async () => {
    await proxy.close()
    await redis.stop()
  })
  const gateway = await startFaultGateway(t, { REDIS_URL: proxy.url, REDIS_FAIL_MODE: 'closed', REDIS_COMMAND_TIMEOUT_MS: String(COMMAND_TIMEOUT_MS) })
  // The first command may race the connection; wait until the store answers.
  let requestId: string | undefined
  for (let i = 0; i < 50 && requestId === undefined; i++) {
    requestId = await ownedRequest(gateway).catch(async () => { await sleep(100); return undefined })
  }
  if (requestId === undefined) throw new Error('the gateway never reached Redis')
  return { redis, proxy, gateway, requestId }
}

/** Every call answers 503 STORE_UNAVAILABLE, within the command timeout, and fal hears nothing. */
async function checkUnavailable (t: Test, gateway: TestGateway, requestId: string, label: string): Promise<void> {
  gateway.emulator.resetCalls()
  for (const call of CALLS) {
    const { value: answer, elapsed } = await timed(() => perform(gateway, call, requestId))
    checkFailure(t, gateway, answer, { status: 503, code: 'STORE_UNAVAILABLE' }, `${label}, ${call}`)
    t.ok(elapsed < COMMAND_TIMEOUT_MS + MARGIN_MS, `${label}, ${call}: answered in ${elapsed} ms`)
  }
  t.same(gateway.emulator.calls, [], `${label}: fal received nothing`)
}

/** Back to normal on its own once Redis is: bounded, so a gateway that never recovers fails. */
async function recovers (gateway: TestGateway, requestId: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if ((await perform(gateway, 'status', requestId)).status === 202) return true
    await sleep(100)
  }
  return false
}

t.test('Redis stopped: 503 STORE_UNAVAILABLE at once (fail closed), then recovery', async t => {
  const { redis, gateway, requestId } = await setup(t)
  await redis.stop()
  await checkUnavailable(t, gateway, requestId, 'Redis stopped')
  await redis.start()
  // A restarted Redis is empty: the job's owner record is gone, so recovery shows as a fresh submit.
  let fresh: string | undefined
  for (let i = 0; i < 100 && fresh === undefined; i++) {
    fresh = await ownedRequest(gateway).catch(async () => { await sleep(100); return undefined })
  }
  t.ok(fresh, 'submits work again once Redis is back')
})

t.test('Redis that stops answering: 503 STORE_UNAVAILABLE within REDIS_COMMAND_TIMEOUT_MS, then recovery', async t => {
  const { proxy, gateway, requestId } = await setup(t)
  proxy.pause()
  await checkUnavailable(t, gateway, requestId, 'Redis silent')
  proxy.resume()
  t.ok(await recovers(gateway, requestId), 'the gateway answers normally once Redis does')
  t.notOk(gateway.logs.some(line => line.includes('"statusCode":500')), 'no request answered 500')
})
