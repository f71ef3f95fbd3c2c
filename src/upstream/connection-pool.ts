import { Agent } from 'undici'

/**
 * One keep-alive connection pool per upstream origin, shared by the calls the gateway makes to
 * fal that answer at once: the `@fal-ai/client` fetch and the pooled hot path alike. Created once
 * at start-up.
 */
export function createConnectionPool (): Agent {
  return new Agent({
    connections: 128,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 120_000,
    // The gateway sets a total deadline per call itself (AbortSignal); these only catch stalls.
    headersTimeout: 60_000,
    bodyTimeout: 60_000
  })
}

/**
 * The pool of fal's status streams, apart from the one above: a stream holds its connection for
 * as long as the job runs, and however many are open, polls and submits keep all of theirs.
 * At `connections`, a further stream waits for one (and times out like any opening).
 */
export function createStreamPool (connections: number): Agent {
  return new Agent({
    connections,
    keepAliveTimeout: 30_000,
    headersTimeout: 60_000,
    // fal ticks about every second on a quiet stream: a minute of silence is a dead one.
    bodyTimeout: 60_000
  })
}
