import { existsSync } from 'node:fs'
import t from 'tap'
import { chromium } from 'playwright-core'
import type { TestGateway } from '../helpers/gateway.js'
import { ILLUSION, illusionInput } from '../helpers/fixtures.js'
import { startCluster } from '../replicas/cluster.js'
import { deliver, until, WEBHOOKS_ON } from './webhook-gateway.js'

const CHROMIUM = '/usr/bin/chromium'
const missing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`

/** What the page saw, as it keeps it on `window`. */
interface Seen { submitted?: string, outcome?: string, streamed?: string, streamEnded?: boolean, errors: string[] }

t.test('a browser tab on the demo page is told the outcome, through /events and the status stream, when fal\'s webhook reaches the other replica', { skip: missing }, async t => {
  const { gateways, emulator } = await startCluster(t, { env: { ...WEBHOOKS_ON, DEMO_ENABLED: 'true', EVENTS_HEARTBEAT_MS: '500' }, emulator: { queueMs: 600_000 } })
  const [first, second] = gateways as [TestGateway, TestGateway]

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage()
  t.equal((await page.goto(`${second.url}/demo`))?.status(), 200, 'the demo page, served by the second replica')

  // The tab submits, then waits both ways a browser app can: EventSource on /events, and the
  // typed status stream read with fetch.
  await page.evaluate(async ({ model, input }) => {
    const seen: Seen = { errors: [] }
    ;(window as unknown as { seen: Seen }).seen = seen
    const answer = await fetch(`/queue/${model}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) })
    const { request_id: requestId } = await answer.json() as { request_id: string }
    seen.submitted = requestId
    const events = new EventSource(`/queue/${model}/requests/${requestId}/events`)
    events.addEventListener('outcome', event => {
      seen.outcome = (event as MessageEvent<string>).data
      events.close()
    })
    // Not awaited: the stream ends only with the outcome.
    ;(async () => {
      const stream = await fetch(`/queue/${model}/requests/${requestId}/status/stream`)
      const reader = (stream.body as ReadableStream<Uint8Array>).getReader()
      const decoder = new TextDecoder()
      let text = ''
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true })
      seen.streamed = text
      seen.streamEnded = true
    })().catch((error: unknown) => { seen.errors.push(String(error)) })
  }, { model: ILLUSION, input: illusionInput })

  const requestId = await page.evaluate(() => (window as unknown as { seen: Seen }).seen.submitted) as string
  t.match(requestId, /^[0-9a-f-]{36}$/, 'the tab has its job')
  await until(() => emulator.callsOf('stream').some(call => call.requestId === requestId), 'the status stream open at fal')
  t.equal(await page.evaluate(() => (window as unknown as { seen: Seen }).seen.outcome), undefined, 'nothing to tell yet')

  t.same(await deliver(first, requestId), [200], 'fal delivers the outcome to the first replica')
  await page.waitForFunction(() => {
    const seen = (window as unknown as { seen: Seen }).seen
    return seen.outcome !== undefined && seen.streamEnded === true
  }, undefined, { timeout: 20_000 })
  const seen = await page.evaluate(() => (window as unknown as { seen: Seen }).seen)
  t.same(seen.errors, [])
  t.match(JSON.parse(seen.outcome as string), { request_id: requestId, status: 'OK', payload: { image: { content_type: 'image/png' } } }, 'the tab is told the outcome')
  const last = (seen.streamed as string).split('\n').filter(line => line.startsWith('data:')).at(-1) as string
  t.match(JSON.parse(last.slice(5)), { status: 'COMPLETED', request_id: requestId }, 'its status stream ends with the completion')
  t.notOk(emulator.callsOf('status').some(call => call.requestId === requestId), 'no status poll of fal')
})
