import { once } from 'node:events'
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net'

export interface TcpProxy {
  url: string
  /** Stops moving bytes either way, sockets kept open: the far side "stops answering". */
  pause (): void
  /** Moves the held bytes on, in order, and keeps going. */
  resume (): void
  close (): Promise<void>
}

/**
 * A loopback TCP relay to `port`, for making a dependency stall without killing it. Paused, it
 * stops reading from both sockets, so nothing is lost or reordered and resuming picks up cleanly.
 */
export async function startTcpProxy (port: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>()
  let paused = false
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    if (paused) socket.pause()
  }
  const server = createServer(client => {
    const upstream = createConnection({ port, host: '127.0.0.1' })
    track(client)
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    const end = (): void => {
      client.destroy()
      upstream.destroy()
    }
    client.once('error', end).once('close', end)
    upstream.once('error', end).once('close', end)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `redis://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pause () {
      paused = true
      for (const socket of sockets) socket.pause()
    },
    resume () {
      paused = false
      for (const socket of sockets) socket.resume()
    },
    async close () {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    }
  }
}
