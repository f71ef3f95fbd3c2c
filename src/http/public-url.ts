import type { FastifyRequest } from 'fastify'

/**
 * The base URL clients reach this gateway at: PUBLIC_URL when set (behind a proxy that rewrites
 * hosts), else what the client itself used. Used to point status/response/cancel URLs here.
 */
export function publicBase (request: FastifyRequest, configured: string | undefined): string {
  return configured ?? `${request.protocol}://${request.host}`
}

export function queueUrls (base: string, appId: string, requestId: string) {
  const request = `${base}/queue/${appId}/requests/${requestId}`
  return { status_url: `${request}/status`, response_url: request, cancel_url: `${request}/cancel` }
}
