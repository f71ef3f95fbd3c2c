import { setTimeout as sleep } from 'node:timers/promises'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createEmulator } from '../src/emulator/emulator.js'
import { freePort } from '../test/helpers/free-port.js'
import { UNLIMITED } from './unlimited.js'

export interface UpstreamCallsRow {
  scenario: string
  cache: 'on' | 'off'
  /** FAL_WEBHOOKS: fal tells the gateway when each job ends. */
  webhooks: 'on' | 'off'
  clientPolls: number
  upstreamCalls: number
  /** Of those, result fetches. */
  resultFetches: number
  jobs: number
  /** Calls to fal per 1,000 client polls (status and result). */
  perThousand: number
}

const KEY = 'bench-calls-id:bench-calls-secret'
const APP = 'fal-ai/layer-diffusion'
/** `@fal-ai/client`'s subscribe polls every 500 ms. */
const POLL_INTERVAL_MS = 500
/** Each job spends 2 s queued and 4 s running: about 12 polls per tab. */
const QUEUE_MS = 2000
const PROCESSING_MS = 4000

/**
 * Browser tabs polling like `subscribe` (status every 500 ms until COMPLETED, then the result
 * once), against a real gateway and emulator, counting what reaches fal. Counts, not timings:
 * this runs in one process and its figures do not depend on the machine's speed.
 */
export async function measureUpstreamCalls (): Promise<UpstreamCallsRow[]> {
  const rows: UpstreamCallsRow[] = []
  for (const cache of ['on', 'off'] as const) {
    for (const [scenario, tabs, jobs] of [['one tab per job', 1, 60], ['three tabs on the same job', 3, 20]] as const) {
      rows.push(await run(scenario, cache, 'off', tabs, jobs))
    }
  }
  for (const webhooks of ['off', 'on'] as const) rows.push(await run('100 jobs, one tab each', 'on', webhooks, 1, 100))
  return rows
}

async function run (scenario: string, cache: 'on' | 'off', webhooks: 'on' | 'off', tabs: number, jobs: number): Promise<UpstreamCallsRow> {
  const emulator = createEmulator({ falKey: KEY, queueMs: QUEUE_MS, processingMs: PROCESSING_MS })
  const emulatorUrl = await emulator.listen()
  // fal (the emulator) must know where to post before the gateway listens.
  const port = await freePort()
  const app = await buildApp(loadConfig({
    FAL_KEY: KEY,
    FAL_QUEUE_URL: emulatorUrl,
    FAL_REST_URL: emulatorUrl,
    LOG_LEVEL: 'warn',
    ...UNLIMITED,
    ...(cache === 'off' ? { POLL_CACHE_MAX_BYTES: '0', POLL_PENDING_FRESH_MS: '0' } : {}),
    ...(webhooks === 'on' ? { FAL_WEBHOOKS: 'on', PUBLIC_URL: `http://127.0.0.1:${port}` } : {})
  }), { logger: false })
  await app.listen({ port, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${port}/queue/${APP}`
  let clientPolls = 0
  try {
    const ids = await Promise.all(Array.from({ length: jobs }, async () => {
      const answer = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      return ((await answer.json()) as { request_id: string }).request_id
    }))
    emulator.resetCalls()
    const tab = async (id: string, offsetMs: number) => {
      await sleep(offsetMs)
      for (;;) {
        clientPolls++
        const status = (await (await fetch(`${base}/requests/${id}/status?logs=1`)).json()) as { status: string }
        if (status.status === 'COMPLETED') break
        await sleep(POLL_INTERVAL_MS)
      }
      clientPolls++
      await (await fetch(`${base}/requests/${id}`)).arrayBuffer()
    }
    // Tabs on one job opened at different moments: spread over one poll interval.
    await Promise.all(ids.flatMap(id => Array.from({ length: tabs }, (_, index) => tab(id, index * POLL_INTERVAL_MS / tabs))))
    const resultFetches = emulator.callsOf('result').length
    const upstreamCalls = emulator.callsOf('status').length + resultFetches
    return { scenario, cache, webhooks, clientPolls, upstreamCalls, resultFetches, jobs, perThousand: upstreamCalls / clientPolls * 1000 }
  } finally {
    await app.close()
    await emulator.close()
  }
}

export function renderUpstreamCalls (rows: UpstreamCallsRow[]): string {
  return [
    '## Upstream calls per 1,000 client polls',
    '',
    `Tabs polling like \`@fal-ai/client\`'s \`subscribe\`: status every ${POLL_INTERVAL_MS} ms until COMPLETED (jobs spend ${QUEUE_MS / 1000} s queued and ${PROCESSING_MS / 1000} s running), then the result once; three tabs on one job open a third of an interval apart. Cache on is the default (\`POLL_PENDING_FRESH_MS=250\`, completed answers kept); cache off sets \`POLL_CACHE_MAX_BYTES=0\` and \`POLL_PENDING_FRESH_MS=0\`, leaving only the coalescing of simultaneous polls. Webhooks on is \`FAL_WEBHOOKS=on\` (the emulator posts each job's signed outcome to the gateway as it ends): the completed status and the result are then answered from the outcome, while a pending job is still asked about.`,
    '',
    '| scenario | cache | webhooks | client polls | calls to fal | of which result fetches | per 1,000 client polls |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: |',
    ...rows.map(row => `| ${row.scenario} | ${row.cache} | ${row.webhooks} | ${row.clientPolls.toLocaleString('en-US')} | ${row.upstreamCalls.toLocaleString('en-US')} | ${row.resultFetches.toLocaleString('en-US')} (${row.jobs} jobs) | ${Math.round(row.perThousand).toLocaleString('en-US')} |`),
    ''
  ].join('\n')
}
