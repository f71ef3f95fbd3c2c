import { createServer, type Server } from 'node:http'
import { once } from 'node:events'
import type { Registry } from 'prom-client'

/**
 * `/metrics` on a port of its own (METRICS_PORT), for scrapers on a private network: no token,
 * nothing else served. Production only; tests scrape through the main port with the token.
 */
export async function startMetricsServer (registry: Registry, port: number, host: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'application/json' }).end('{"statusCode":404,"code":"ROUTE_NOT_FOUND","error":"Not Found","message":"Only GET /metrics is served on this port"}')
      return
    }
    registry.metrics().then(
      text => { response.writeHead(200, { 'content-type': registry.contentType }).end(text) },
      () => { response.writeHead(500).end() }
    )
  })
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  server.listen(port, host)
  await once(server, 'listening')
  return server
}
