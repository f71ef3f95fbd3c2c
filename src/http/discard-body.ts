import type { IncomingMessage } from 'node:http'

/**
 * Reads and throws away what is left of a request body, so that an answer sent before the body
 * was read (a 413, a refusal while draining) reaches the client: a client still sending when the
 * connection closes gets EPIPE instead of the answer (Node's fetch does, and so do browsers).
 * Gives up at once when the declared length is over `maxBytes`, and as soon as more than
 * `maxBytes` came: then the connection is closed on the sender, as the bound is there to say.
 * The server's request timeout still cuts off a client that drips.
 */
export async function discardBody (request: IncomingMessage, maxBytes: number): Promise<void> {
  if (request.complete || request.destroyed || Number(request.headers['content-length']) > maxBytes) return
  await new Promise<void>(resolve => {
    let received = 0
    const stop = (): void => {
      request.off('data', count)
      request.off('end', stop)
      request.off('close', stop)
      request.off('error', stop)
      resolve()
    }
    const count = (chunk: Buffer): void => {
      received += chunk.length
      if (received > maxBytes) stop()
    }
    request.on('data', count)
    request.once('end', stop)
    request.once('close', stop)
    request.once('error', stop)
    request.resume()
  })
}
