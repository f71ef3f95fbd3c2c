import { once } from 'node:events'
import { request, type ClientRequest } from 'node:http'
import { fileURLToPath } from 'node:url'
import { createEmulator } from '../src/emulator/emulator.js'
import { startChild, type Child } from './processes.js'
import { UNLIMITED } from './unlimited.js'

export interface StatusStreamsRow {
  jobs: number
  listeners: number
  /** Growth of the gateway's resident memory per open listener (its socket, request, reply, stream). */
  rssBytesPerStream: number
  /** Growth of its V8 heap plus external memory per open listener. */
  heapBytesPerStream: number
  /** Connections fal (the emulator) holds from the gateway for the streams. */
  upstreamConnections: number
  /** Status streams the gateway opened at fal. */
  upstreamStreams: number
}

const KEY = 'bench-streams-id:bench-streams-secret'
const APP = 'fal-ai/layer-diffusion'
const JOBS = 100
const LISTENERS = 1000

interface Memory { rss: number, heapUsed: number, external: number, upstreamStreams: number }

async function measure (child: Child): Promise<Memory> {
  const answer = once(child.process, 'message')
  child.process.send('measure')
  return (await answer)[0] as Memory
}

async function connections (server: { getConnections: (callback: (error: Error | null, count: number) => void) => void }): Promise<number> {
  return await new Promise((resolve, reject) => { server.getConnections((error, count) => { error === null ? resolve(count) : reject(error) }) })
}

/** One listener: a status stream on its own socket, resolved at its first event. */
async function listen (url: string, requestId: string): Promise<ClientRequest> {
  return await new Promise((resolve, reject) => {
    const client = request(`${url}/queue/${APP}/requests/${requestId}/status/stream`, { agent: false }, response => {
      if (response.statusCode !== 200) reject(new Error(`stream answered ${response.statusCode ?? '?'}`))
      response.once('data', () => { resolve(client) })
      response.on('data', () => {})
    })
    client.once('error', reject)
    client.end()
  })
}

/**
 * 1,000 browser tabs watching 100 jobs (10 each) through status streams, against a gateway in a
 * process of its own: its memory per open stream, and what it holds at fal for them.
 */
export async function measureStatusStreams (): Promise<StatusStreamsRow> {
  // The jobs stay queued: every stream stays open while it is measured.
  const emulator = createEmulator({ falKey: KEY, queueMs: 3600_000 })
  const emulatorUrl = await emulator.listen()
  const gateway = await startChild({
    name: 'stream-gateway',
    script: fileURLToPath(new URL('children/stream-gateway.ts', import.meta.url)),
    nodeArgs: ['--expose-gc'],
    env: {
      FAL_KEY: KEY,
      FAL_QUEUE_URL: emulatorUrl,
      FAL_REST_URL: emulatorUrl,
      LOG_LEVEL: 'warn',
      ...UNLIMITED
    },
    ready: { ipc: true }
  })
  const listeners: ClientRequest[] = []
  try {
    const ids: string[] = []
    for (let i = 0; i < JOBS; i++) {
      const answer = await fetch(`${gateway.url}/queue/${APP}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' })
      ids.push(((await answer.json()) as { request_id: string }).request_id)
    }
    const connectionsBefore = await connections(emulator.app.server)
    const before = await measure(gateway)
    for (let i = 0; i < LISTENERS; i += JOBS) {
      listeners.push(...await Promise.all(ids.map(async id => await listen(gateway.url, id))))
    }
    const after = await measure(gateway)
    return {
      jobs: JOBS,
      listeners: LISTENERS,
      rssBytesPerStream: (after.rss - before.rss) / LISTENERS,
      heapBytesPerStream: (after.heapUsed + after.external - before.heapUsed - before.external) / LISTENERS,
      upstreamConnections: await connections(emulator.app.server) - connectionsBefore,
      upstreamStreams: emulator.callsOf('stream').length
    }
  } finally {
    for (const listener of listeners) listener.destroy()
    await gateway.stop()
    await emulator.close()
  }
}

export function renderStatusStreams (row: StatusStreamsRow): string {
  const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`
  return [
    '## Status streams: memory per stream, connections to fal',
    '',
    `${row.listeners.toLocaleString('en-US')} status streams (each on its own socket, like ${row.listeners.toLocaleString('en-US')} browser tabs) watching ${row.jobs} queued jobs, ${row.listeners / row.jobs} per job, against a gateway in its own process; memory read after two garbage collections, before and after the streams opened. Every listener of a job shares the gateway's one stream from fal (\`MAX_STREAMS_PER_CLIENT\` raised for the run: the tabs share an address).`,
    '',
    '| listeners | jobs | gateway RSS per stream | heap + external per stream | streams opened at fal | connections to fal |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${row.listeners.toLocaleString('en-US')} | ${row.jobs} | ${kib(row.rssBytesPerStream)} | ${kib(row.heapBytesPerStream)} | ${row.upstreamStreams} | ${row.upstreamConnections} |`,
    ''
  ].join('\n')
}
