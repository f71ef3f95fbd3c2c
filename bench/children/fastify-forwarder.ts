import Fastify from 'fastify'
import { Pool } from 'undici'

/**
 * What the framework alone costs: Fastify (its logger at `warn`, as the gateway runs it) with one
 * route in front of the same undici `Pool` as the bare forwarder, checking nothing. It reads fal's
 * answer whole and sends it on, as the gateway must (it reads the status to free job slots and
 * rewrites the URLs in it). The gap from the bare forwarder to this row is Fastify and the whole
 * read; the gap from this row to the gateway is the gateway's own checks.
 */
const emulatorUrl = process.env.BENCH_EMULATOR_URL
const falKey = process.env.FAL_KEY
if (emulatorUrl === undefined || falKey === undefined) throw new Error('BENCH_EMULATOR_URL and FAL_KEY are required')

const pool = new Pool(emulatorUrl, { connections: 128, keepAliveTimeout: 30_000 })
const upstreamHeaders = { authorization: `Key ${falKey}`, accept: 'application/json' }
const app = Fastify({ logger: { level: 'warn' }, keepAliveTimeout: 72_000 })

app.get<{ Params: { owner: string, alias: string, id: string } }>('/queue/:owner/:alias/requests/:id/status', async (request, reply) => {
  const { owner, alias, id } = request.params
  const answer = await pool.request({ path: `/${owner}/${alias}/requests/${id}/status`, method: 'GET', headers: upstreamHeaders })
  return reply.code(answer.statusCode).type('application/json; charset=utf-8').send(await answer.body.text())
})

const address = await app.listen({ port: 0, host: '127.0.0.1' })
process.send?.({ url: address })

const stop = () => { app.close().then(() => pool.close()).finally(() => process.exit(0)) }
process.once('SIGTERM', stop)
process.once('disconnect', stop)
