import { WebhookNotAllowed } from '../errors/gateway-errors.js'

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/**
 * fal POSTs results to `fal_webhook`, with the gateway's key as the payer: only hosts the operator
 * listed (WEBHOOK_HOSTS; `*.example.com` for subdomains) may receive them, over https. An empty
 * list refuses every webhook.
 */
export function createWebhookCheck (allowedHosts: string[], options: { allowLoopbackHttp?: boolean } = {}) {
  const exact = new Set(allowedHosts.filter(host => !host.startsWith('*.')))
  const suffixes = allowedHosts.filter(host => host.startsWith('*.')).map(host => host.slice(1))

  return function checkWebhook (webhook: string): string {
    let url: URL
    try {
      url = new URL(webhook)
    } catch {
      throw new WebhookNotAllowed('(not a URL)')
    }
    const host = url.hostname.toLowerCase()
    const allowed = exact.has(host) || suffixes.some(suffix => host.endsWith(suffix))
    // Tests only (WEBHOOK_ALLOW_LOOPBACK): a receiver on this machine needs no certificate.
    const secure = url.protocol === 'https:' || (options.allowLoopbackHttp === true && url.protocol === 'http:' && LOOPBACK_HOSTS.has(host))
    if (!secure || url.username !== '' || url.password !== '' || !allowed) {
      throw new WebhookNotAllowed(host.slice(0, 100))
    }
    return url.href
  }
}
