import fp from 'fastify-plugin'
import type { Socket } from 'node:net'
import { PassThrough, Readable } from 'node:stream'
import { ShuttingDown } from '../../errors/gateway-errors.js'

/** Routes that keep answering while the node drains: probes and the scraper. */
const ALWAYS_SERVED = new Set(['/healthz', '/readyz', '/metrics'])
/** Time kept after the streams end for their last bytes and the other cleanup. */
const STREAM_END_MARGIN_MS = 1000

declare module 'fastify' {
  interface FastifyInstance {
    /** Starts the drain (idempotent): called by `close()`, or earlier by the process's signal handler. */
    drain: () => void
  }
}

/**
 * Graceful shutdown inside the app. Once draining: readiness is false, new requests get our 503
 * `SHUTTING_DOWN` with `Connection: close`, every answer still in flight closes its connection
 * after it (an idle keep-alive socket would otherwise hold `close()` until keepAliveTimeout),
 * and open status streams get until `graceMs` minus a margin to finish on their own before they
 * are ended cleanly (the client sees the event stream end and reconnects elsewhere).
 */
export default fp<{ graceMs: number }>(async function draining (fastify, { graceMs }) {
  const streams = new Set<() => void>()
  let draining = false
  let streamsEnded = false
  let streamTimer: NodeJS.Timeout | undefined

  const endStreams = (): void => {
    streamsEnded = true
    for (const end of streams) end()
  }

  fastify.decorate('drain', function drain () {
    if (draining) return
    draining = true
    fastify.readiness.ready = false
    streamTimer = setTimeout(endStreams, Math.max(0, graceMs - STREAM_END_MARGIN_MS))
    streamTimer.unref()
  })

  fastify.addHook('preClose', async () => { fastify.drain() })
  fastify.addHook('onClose', async () => {
    clearTimeout(streamTimer)
    endStreams()
  })

  // Callback hooks, not async ones: they run on every request, and a promise each is measurable.
  fastify.addHook('onRequest', (request, reply, done) => {
    if (!draining || ALWAYS_SERVED.has(request.routeOptions.url ?? '')) return done()
    reply.header('connection', 'close')
    done(new ShuttingDown())
  })

  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (draining) reply.header('connection', 'close')
    if (!(payload instanceof Readable)) return done(null, payload)
    const type = reply.getHeader('content-type')
    if (typeof type !== 'string' || !type.startsWith('text/event-stream')) return done(null, payload)
    // The stream goes out through a pass-through the drain can end without touching the socket.
    const out = new PassThrough()
    payload.pipe(out)
    // Its headers went out before any drain could say `Connection: close`: once it finishes during
    // a drain, its socket must be ended here, or the idle keep-alive connection holds close().
    const socket: Socket | null = reply.raw.socket
    const forwardError = (error: Error): void => { out.destroy(error) }
    const end = (): void => {
      streams.delete(end)
      payload.unpipe(out)
      // Destroying a stream before its end errors it (undici does): expected here, not the client's.
      payload.off('error', forwardError).on('error', () => {}).destroy()
      out.end(': the gateway is shutting down; reconnect to continue\n\n')
    }
    streams.add(end)
    payload.once('error', forwardError)
    out.once('close', () => { streams.delete(end) })
    reply.raw.once('finish', () => { if (draining) socket?.end() })
    if (streamsEnded) setImmediate(end)
    done(null, out)
  })
}, { name: 'draining', dependencies: ['readiness'] })
