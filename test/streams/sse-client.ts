import type { TestGateway } from '../helpers/gateway.js'
import type { Route } from '../replicas/cluster.js'
import { ILLUSION } from '../helpers/fixtures.js'

/** An event stream (a status stream, /events) as a client reads it. */
export interface OpenStream {
  status: number
  headers: Headers
  /** Everything read so far. */
  text: () => string
  /** The whole stream, once the server ends it (rejects when it is cut or aborted). */
  ended: Promise<string>
  /** The client hangs up. */
  close: () => void
}

/** Opens the status stream of `requestId` on the typed route or through the proxy; `hangUp` closes it (opened or not). */
export async function openStream (gateway: TestGateway, route: Route, requestId: string, headers: Record<string, string> = {}, hangUp?: AbortSignal): Promise<OpenStream> {
  const client = new AbortController()
  hangUp?.addEventListener('abort', () => { client.abort() }, { once: true })
  const path = `/${ILLUSION}/requests/${requestId}/status/stream`
  const response = route === 'typed'
    ? await fetch(`${gateway.url}/queue${path}`, { headers, signal: client.signal })
    : await fetch(`${gateway.url}/api/fal/proxy`, { headers: { ...headers, 'x-fal-target-url': `https://queue.fal.run${path}` }, signal: client.signal })
  return readStream(response, client)
}

/** Reads an event stream's answer as it arrives; `client` (when given) is what hangs up. */
export function readStream (response: Response, client = new AbortController()): OpenStream {
  let text = ''
  const ended = (async () => {
    if (response.body === null) return text
    const decoder = new TextDecoder()
    const reader = response.body.getReader()
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += decoder.decode(chunk.value, { stream: true })
    return text
  })()
  ended.catch(() => {})
  return { status: response.status, headers: response.headers, text: () => text, ended, close: () => { client.abort() } }
}

/** The JSON of every `data:` line of a stream. */
export function dataEvents (stream: string): any[] {
  return stream.split('\n').filter(line => line.startsWith('data:')).map(line => JSON.parse(line.slice(5)))
}
