import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { createEmulator } from '../src/emulator/emulator.js'
import { UNLIMITED } from './unlimited.js'

const ROOT = new URL('../', import.meta.url).pathname
const FAL_KEY = 'bench-key-id:bench-key-secret'

/** The largest real fal input (nested ControlNets, LoRAs, IP adapters), and a small one to compare. */
const CASES = [
  { endpointId: 'fal-ai/flux-general', body: { prompt: 'benchmark', loras: [{ path: 'https://example.com/a.safetensors', scale: 0.8 }], controlnets: [{ path: 'https://example.com/c', control_image_url: 'https://example.com/c.png', conditioning_scale: 0.7 }], image_size: { width: 1024, height: 768 } } },
  { endpointId: 'fal-ai/layer-diffusion', body: { prompt: 'benchmark' } }
]

export interface SubmitRow { endpointId: string, rps: number, p50: number, p99: number, startupMs: number }

/**
 * Submits through the typed route of a catalog endpoint: validation of fal's largest document
 * (flux-general), compiled once at start-up, against a two-field one. Gateway and emulator run in
 * this process, so the figures compare the two rows rather than stand alone.
 */
export async function measureCatalogSubmits (durationS = 10, connections = 32): Promise<SubmitRow[]> {
  const modelsDir = mkdtempSync(join(tmpdir(), 'bench-models-'))
  cpSync(join(ROOT, 'models'), modelsDir, { recursive: true })
  mkdirSync(join(modelsDir, 'fal-ai'), { recursive: true })
  const openapi = JSON.parse(readFileSync(join(ROOT, 'src/emulator/fal-documents/fal-ai__flux-general.json'), 'utf8'))
  writeFileSync(join(modelsDir, 'fal-ai/flux-general.json'), JSON.stringify({ endpoint_id: 'fal-ai/flux-general', openapi }))
  // Jobs never leave the queue: only the submit is measured.
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 3_600_000, processingMs: 1000, maxJobs: 2_000_000 })
  const emulatorUrl = await emulator.listen()
  const config = loadConfig({
    NODE_ENV: 'production',
    FAL_KEY,
    FAL_QUEUE_URL: emulatorUrl,
    FAL_REST_URL: emulatorUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    MODELS_DIR: modelsDir,
    ...UNLIMITED
  })
  const started = performance.now()
  const app = await buildApp(config, { logger: false })
  await app.ready()
  const startupMs = performance.now() - started
  await app.listen({ port: 0, host: '127.0.0.1' })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`
  const rows: SubmitRow[] = []
  try {
    for (const { endpointId, body } of CASES) {
      const result = await autocannon({ url: `${url}/queue/${endpointId}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), connections, duration: durationS })
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${endpointId}: ${result.non2xx} non-2xx, ${result.errors} errors`)
      rows.push({ endpointId, rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, startupMs })
    }
  } finally {
    await app.close()
    await emulator.close()
    rmSync(modelsDir, { recursive: true, force: true })
  }
  return rows
}

export function renderSubmitRows (rows: SubmitRow[]): string {
  return [
    '| submit (typed route, catalog endpoint) | req/s | p50 ms | p99 ms |',
    '| --- | ---: | ---: | ---: |',
    ...rows.map(row => `| \`POST /queue/${row.endpointId}\` | ${Math.round(row.rps)} | ${row.p50.toFixed(2)} | ${row.p99.toFixed(2)} |`),
    '',
    `Gateway start-up with the catalog (validators compiled once): ${Math.round(rows[0]?.startupMs ?? 0)} ms.`
  ].join('\n')
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${renderSubmitRows(await measureCatalogSubmits(Number(process.env.BENCH_SUBMIT_SECONDS ?? 10)))}\n`)
}
