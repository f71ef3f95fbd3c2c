import type { Test } from 'tap'
import { waitForRedis } from '../../src/redis/redis-client.js'
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/emulator.js'
import { FAL_KEY, startGatewayOn, type TestGateway, type TestResponse } from '../helpers/gateway.js'
import { startRedisServer, type RedisServer } from '../helpers/redis-server.js'

import { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, illusionInput, layerInput } from '../helpers/fixtures.js'

export { ILLUSION, LAYER, UNKNOWN_REQUEST_ID, illusionInput, layerInput }

export interface Cluster {
  emulator: Emulator
  gateways: TestGateway[]
  /** Present when the replicas share a Redis. */
  redis?: RedisServer
}

export interface ClusterOptions {
  replicas?: number
  /** Start a private redis-server and point every replica at it (default true). */
  redis?: boolean
  env?: Record<string, string>
  emulator?: Partial<EmulatorOptions>
}

/**
 * Replicas of the gateway behind no load balancer (the test picks the replica), sharing one
 * emulator and, by default, one fresh Redis. Everything is closed in teardown, gateways first.
 */
export async function startCluster (t: Test, options: ClusterOptions = {}): Promise<Cluster> {
  const redis = options.redis === false ? undefined : await startRedisServer()
  if (redis !== undefined) t.teardown(() => redis.stop())
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 60, processingMs: 120, ...options.emulator })
  const emulatorUrl = await emulator.listen()
  t.teardown(() => emulator.close())
  const env = { ...options.env, ...(redis === undefined ? {} : { REDIS_URL: redis.url }) }
  const gateways: TestGateway[] = []
  for (let i = 0; i < (options.replicas ?? 2); i++) {
    const gateway = await startGatewayOn(t, emulator, emulatorUrl, env)
    // The gateway connects to Redis in the background; a request before that would meet the fail mode.
    if (gateway.app.redis !== undefined) await waitForRedis(gateway.app.redis)
    gateways.push(gateway)
  }
  return { emulator, gateways, redis }
}

export type Route = 'typed' | 'proxy'
export type RequestOperation = 'status' | 'stream' | 'result' | 'cancel'

const QUEUE_HOST = 'https://queue.fal.run'

const withAuth = (headers: Record<string, string>, key?: string): Record<string, string> =>
  key === undefined ? headers : { ...headers, authorization: `Bearer ${key}` }

/** A submit on the typed route or through `/api/fal/proxy`, optionally as a client key / JWT. */
export async function submitVia (gateway: TestGateway, route: Route, options: { bearer?: string, appId?: string, input?: unknown, headers?: Record<string, string> } = {}): Promise<TestResponse> {
  const appId = options.appId ?? ILLUSION
  const body = JSON.stringify(options.input ?? (appId === ILLUSION ? illusionInput : layerInput))
  const headers = withAuth({ 'content-type': 'application/json', ...options.headers }, options.bearer)
  if (route === 'typed') return await gateway.request(`/queue/${appId}`, { method: 'POST', headers, body })
  return await gateway.request('/api/fal/proxy', { method: 'POST', headers: { ...headers, 'x-fal-target-url': `${QUEUE_HOST}/${appId}` }, body })
}

const SUFFIX: Record<RequestOperation, string> = { status: '/status', stream: '/status/stream', result: '', cancel: '/cancel' }

/** Status, status stream, result or cancel of a request, on either route. */
export async function operateVia (gateway: TestGateway, route: Route, operation: RequestOperation, requestId: string, options: { bearer?: string, appId?: string, headers?: Record<string, string> } = {}): Promise<TestResponse> {
  const appId = options.appId ?? ILLUSION
  const method = operation === 'cancel' ? 'PUT' : 'GET'
  const headers = withAuth({ ...options.headers }, options.bearer)
  const path = `/${appId}/requests/${requestId}${SUFFIX[operation]}`
  if (route === 'typed') return await gateway.request(`/queue${path}`, { method, headers })
  return await gateway.request('/api/fal/proxy', { method, headers: { ...headers, 'x-fal-target-url': QUEUE_HOST + path } })
}

/** Calls the emulator received about one request (status, stream, result, cancel). */
export function callsAbout (emulator: Emulator, requestId: string): number {
  return emulator.calls.filter(call => call.requestId === requestId).length
}
