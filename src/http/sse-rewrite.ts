import { StringDecoder } from 'node:string_decoder'
import { Transform } from 'node:stream'

/**
 * Rewrites the JSON in each `data:` line of a server-sent event stream, event by event, so the
 * typed stream can point its status URLs at the gateway like every other typed answer.
 * Lines that are not JSON data (comments, keep-alives, ids) pass unchanged.
 */
export function rewriteSseData (rewrite: (data: Record<string, unknown>) => Record<string, unknown>): Transform {
  let pending = ''
  // A character split between two chunks must not be decoded in halves.
  const decoder = new StringDecoder('utf8')
  const rewriteLine = (line: string): string => {
    if (!line.startsWith('data:')) return line
    try {
      return `data: ${JSON.stringify(rewrite(JSON.parse(line.slice(5)) as Record<string, unknown>))}`
    } catch {
      return line
    }
  }
  return new Transform({
    transform (chunk: Buffer, _encoding, done) {
      pending += decoder.write(chunk)
      const lines = pending.split('\n')
      pending = lines.pop() ?? ''
      done(null, lines.length === 0 ? '' : lines.map(rewriteLine).join('\n') + '\n')
    },
    flush (done) {
      pending += decoder.end()
      done(null, pending === '' ? '' : rewriteLine(pending))
    }
  })
}
