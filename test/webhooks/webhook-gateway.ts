import type { Test } from 'tap'
import type { DeliveryKind } from '../../src/emulator/webhooks.js'
import { startGateway, type GatewayOptions, type TestGateway } from '../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../helpers/fixtures.js'

/** Settings of a gateway that receives fal's webhooks (PUBLIC_URL is only needed to turn them on). */
export const WEBHOOKS_ON = { FAL_WEBHOOKS: 'on', PUBLIC_URL: 'http://gateway.test' }

/** A gateway with FAL_WEBHOOKS=on before the emulator as fal; its jobs never finish by themselves. */
export async function startWebhookGateway (t: Test, options: GatewayOptions = {}): Promise<TestGateway> {
  return await startGateway(t, {
    ...options,
    env: { ...WEBHOOKS_ON, ...options.env },
    emulator: { queueMs: 600_000, ...options.emulator }
  })
}

/** A job submitted through the gateway (so the gateway owns it); its request id. */
export async function submitJob (gateway: TestGateway, headers: Record<string, string> = {}): Promise<string> {
  const answer = await gateway.request(`/queue/${ILLUSION}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(illusionInput)
  })
  if (answer.status !== 202) throw new Error(`submit answered ${answer.status}: ${answer.text}`)
  return answer.json().request_id
}

/** The emulator (as fal) sends one delivery of `kind` about `requestId` to `gateway`; the gateway's statuses. */
export async function deliver (gateway: TestGateway, requestId: string, kind: DeliveryKind = 'genuine', extra: object = {}): Promise<Array<number | null>> {
  const response = await fetch(`${gateway.emulatorUrl}/_emulator/webhooks/send`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ request_id: requestId, url: `${gateway.url}/webhooks/fal`, kind, ...extra })
  })
  if (response.status !== 200) throw new Error(`emulator send answered ${response.status}`)
  return ((await response.json()) as { statuses: Array<number | null> }).statuses
}

/** One labelled sample of a counter, 0 when absent. */
export async function counter (gateway: TestGateway, name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await gateway.app.metrics.registry.getSingleMetric(name)?.get()
  const sample = metric?.values.find(value => Object.entries(labels).every(([key, wanted]) => String(value.labels[key]) === wanted))
  return sample?.value ?? 0
}

export async function until (condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/**
 * fal signs each try anew, with its time in whole seconds: waiting for the next second makes the
 * emulator's next delivery a retry, not a replay of the last one.
 */
export async function nextSecond (): Promise<void> {
  const now = Math.floor(Date.now() / 1000)
  await until(() => Math.floor(Date.now() / 1000) > now, 'the next second')
}
