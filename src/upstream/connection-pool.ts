import { Agent } from 'undici'

/**
 * One keep-alive connection pool per upstream origin, shared by every call the gateway makes to
 * fal: the `@fal-ai/client` fetch and the pooled hot path alike. Created once at start-up.
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
