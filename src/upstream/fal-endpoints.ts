/**
 * Where fal's hosts live for this gateway. In production these are fal's own; in development,
 * tests and benchmarks they point at the emulator. Computed once at start-up.
 */
export const FAL_QUEUE_HOST = 'queue.fal.run'
export const FAL_REST_HOST = 'rest.fal.ai'
/** Synchronous runs and streams (`fal.run`, `fal.stream`). */
export const FAL_RUN_HOST = 'fal.run'

export interface UpstreamBase {
  /** `scheme://host:port`, the key of the connection pool. */
  origin: string
  /** Path prefix of the configured base, '' for a bare origin. */
  pathPrefix: string
}

export interface FalEndpoints {
  queue: UpstreamBase
  rest: UpstreamBase
  run: UpstreamBase
  /** Rewrites an URL on fal's public hosts to the configured base; other URLs are left alone. */
  map: (url: string) => string
}

function toBase (url: string): UpstreamBase {
  const parsed = new URL(url)
  return { origin: parsed.origin, pathPrefix: parsed.pathname.replace(/\/+$/, '') }
}

export function createFalEndpoints (queueUrl: string, restUrl: string, runUrl: string): FalEndpoints {
  const queue = toBase(queueUrl)
  const rest = toBase(restUrl)
  const run = toBase(runUrl)
  const queuePrefix = `https://${FAL_QUEUE_HOST}/`
  const restPrefix = `https://${FAL_REST_HOST}/`
  const runPrefix = `https://${FAL_RUN_HOST}/`
  return {
    queue,
    rest,
    run,
    map (url) {
      if (url.startsWith(queuePrefix)) return `${queue.origin}${queue.pathPrefix}/${url.slice(queuePrefix.length)}`
      if (url.startsWith(restPrefix)) return `${rest.origin}${rest.pathPrefix}/${url.slice(restPrefix.length)}`
      if (url.startsWith(runPrefix)) return `${run.origin}${run.pathPrefix}/${url.slice(runPrefix.length)}`
      return url
    }
  }
}
