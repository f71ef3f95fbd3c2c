import { once } from 'node:events'
import { createServer } from 'node:net'

/**
 * A loopback port nothing listens on right now, for servers started as separate processes that
 * must be told their port; `avoid` lists ports never to hand out (a system service's, say).
 */
export async function freePort (avoid: readonly number[] = []): Promise<number> {
  for (;;) {
    const server = createServer()
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const address = server.address()
    server.close()
    await once(server, 'close')
    if (address !== null && typeof address === 'object' && !avoid.includes(address.port)) return address.port
  }
}
