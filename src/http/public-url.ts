import type { FastifyRequest } from 'fastify'
import { appIdOf } from '../upstream/endpoint-id.js'

/**
 * The base URL clients reach this gateway at: PUBLIC_URL when set (behind a proxy that rewrites
 * hosts), else what the client itself used. Used to point status/response/cancel URLs here.
 */
export function publicBase (request: FastifyRequest, configured: string | undefined): string {
  return configured ?? `${request.protocol}://${request.host}`
}

/** A request's URLs name its app id (`owner/alias`), whichever endpoint of the app it was submitted to, as fal's do. */
export function queueUrls (base: string, endpointId: string, requestId: string) {
  const request = `${base}/queue/${appIdOf(endpointId)}/requests/${requestId}`
  return { status_url: `${request}/status`, response_url: request, cancel_url: `${request}/cancel` }
}
