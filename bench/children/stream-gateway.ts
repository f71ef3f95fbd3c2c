import type { AddressInfo } from 'node:net'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'

/**
 * A gateway alone in its process (run with --expose-gc), so its memory is only its own: it reports
 * its URL over IPC, then answers each `measure` message with its memory after two collections and
 * the status streams it holds open to fal.
 */
process.once('disconnect', () => process.exit(0))
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with --expose-gc')
const app = await buildApp(loadConfig(process.env), { logger: false })
await app.listen({ port: 0, host: '127.0.0.1' })
process.on('message', message => {
  if (message !== 'measure') return
  gc()
  gc()
  const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage()
  process.send?.({ rss, heapUsed, external, arrayBuffers, upstreamStreams: app.statusStreams.hub.upstreamStreams })
})
process.send?.({ url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}` })
