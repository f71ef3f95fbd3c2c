import { Writable } from 'node:stream'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance } from 'fastify'
import type { Test } from 'tap'
import { buildApp } from '../../src/app.js'
import { loadConfig, type Config } from '../../src/config.js'
import { loggerOptions } from '../../src/logger.js'
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/emulator.js'
import { RUN_PREFIX } from '../../src/emulator/run-routes.js'

/** The fal key every gateway test runs with; no log line or response may ever contain it. */
export const FAL_KEY = 'gw-test-key-id:gw-test-key-secret-5f1c'

export interface TestGateway {
  app: FastifyInstance
  config: Config
  url: string
  emulator: Emulator
  emulatorUrl: string
  /** Every log line the gateway wrote. */
  logs: string[]
  /**
   * `METHOD url` of every request the gateway received, as it arrives: a test waits on it to know
   * its requests are all in (held by an emulator fault, say) instead of guessing how long that takes.
   */
  arrived: string[]
  /** fetch against the gateway that records each response for the key-leak check. */
  request: (path: string, init?: RequestInit) => Promise<TestResponse>
}

export interface TestResponse {
  status: number
  headers: Headers
  text: string
  json: <T = any>() => T
}

export interface GatewayOptions {
  env?: Record<string, string>
  emulator?: Partial<EmulatorOptions>
  /** Adds test-only routes or hooks to the built app before it listens. */
  prepare?: (app: FastifyInstance) => void
}

/**
 * A real gateway on port 0 in front of a real emulator on port 0, both closed in teardown.
 * At teardown it also asserts that the fal key appeared in no log line and no response.
 */
export async function startGateway (t: Test, options: GatewayOptions = {}): Promise<TestGateway> {
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 60, processingMs: 120, ...options.emulator })
  const emulatorUrl = await emulator.listen()
  return await listenGateway(t, emulator, emulatorUrl, options.env, true, options.prepare)
}

/**
 * One more gateway in front of an emulator that is already listening, e.g. a second replica
 * sharing it (and a Redis) with the first. The caller closes the emulator: register its teardown
 * before starting the gateways, as tap runs teardowns last-registered first.
 */
export async function startGatewayOn (t: Test, emulator: Emulator, emulatorUrl: string, env: Record<string, string> = {}): Promise<TestGateway> {
  return await listenGateway(t, emulator, emulatorUrl, env, false)
}

async function listenGateway (t: Test, emulator: Emulator, emulatorUrl: string, env: Record<string, string> = {}, ownsEmulator: boolean, prepare?: (app: FastifyInstance) => void): Promise<TestGateway> {
  const config = loadConfig({
    NODE_ENV: 'test',
    FAL_KEY,
    FAL_QUEUE_URL: emulatorUrl,
    FAL_REST_URL: emulatorUrl,
    FAL_RUN_URL: `${emulatorUrl}${RUN_PREFIX}`,
    LOG_LEVEL: 'info',
    HOST: '127.0.0.1',
    // Load shedding is tested on its own; elsewhere a busy test machine would trip it at random.
    MAX_EVENT_LOOP_DELAY_MS: '0',
    // So is Redis's command timeout: on a busy machine a burst queues commands past the default.
    REDIS_COMMAND_TIMEOUT_MS: '10000',
    ...env
  })
  const logs: string[] = []
  const stream = new Writable({
    write (chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(line => line.length > 0))
      done()
    }
  })
  const app = await buildApp(config, { logger: { ...(loggerOptions(config) as object), stream } })
  const arrived: string[] = []
  app.addHook('onRequest', async request => { arrived.push(`${request.method} ${request.url}`) })
  prepare?.(app)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  const seen: string[] = []
  const request = async (path: string, init?: RequestInit): Promise<TestResponse> => {
    const response = await fetch(url + path, init)
    const text = await response.text()
    seen.push(text, JSON.stringify([...response.headers]))
    return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) }
  }

  t.teardown(async () => {
    await app.close()
    if (ownsEmulator) await emulator.close()
    // tap refuses assertions once a test has ended, so a leak found here fails it by throwing.
    const leaks = keyLeaks([...logs, ...seen])
    if (leaks.length > 0) throw new Error(`the fal key appears in ${leaks.length} log line(s) or response(s)`)
  })
  return { app, config, url, emulator, emulatorUrl, logs, arrived, request }
}

/** The bar's item 5: the key (or its secret half) is nowhere in what the gateway emitted. */
export function assertNoKey (t: Test, texts: string[]): void {
  t.same(keyLeaks(texts), [], 'the fal key appears in no log line or response')
}

/** The texts that contain the key or its secret half. */
export function keyLeaks (texts: string[]): string[] {
  const secret = FAL_KEY.split(':')[1] as string
  return texts.filter(text => text.includes(FAL_KEY) || text.includes(secret))
}

export const json = (body: unknown, method = 'POST'): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body)
})
