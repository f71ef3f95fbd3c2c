import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Pool } from 'undici'

/**
 * The physical limit of a forwarder on this machine: `node:http` in front of one undici `Pool`,
 * checking nothing. `/queue/{appId}/requests/{id}/status` goes to the emulator's
 * `/{appId}/requests/{id}/status` with the key added, and fal's body is piped back untouched.
 * What the gateway adds on top of this (identity, limits, ownership, schemas, metrics) is its cost.
 */
const emulatorUrl = process.env.BENCH_EMULATOR_URL
const falKey = process.env.FAL_KEY
if (emulatorUrl === undefined || falKey === undefined) throw new Error('BENCH_EMULATOR_URL and FAL_KEY are required')

const pool = new Pool(emulatorUrl, { connections: 128, keepAliveTimeout: 30_000 })
const upstreamHeaders = { authorization: `Key ${falKey}`, accept: 'application/json' }
const PREFIX = '/queue'.length

// undici's stream(): fal's body is written straight into the response as it arrives.
const server = createServer((request, response) => {
  pool.stream({ path: (request.url ?? '/').slice(PREFIX), method: 'GET', headers: upstreamHeaders }, ({ statusCode, headers }) => {
    response.writeHead(statusCode, { 'content-type': String(headers['content-type'] ?? 'application/json') })
    return response
  }, error => {
    if (error !== null && !response.headersSent) response.writeHead(502).end()
  })
})
server.keepAliveTimeout = 72_000

server.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
})

const stop = () => {
  server.close(() => { pool.close().finally(() => process.exit(0)) })
  server.closeAllConnections()
}
process.once('SIGTERM', stop)
process.once('disconnect', stop)
