/**
 * Calling fal through fal-gateway from Node (a server route, SSR, a script), as a client the
 * gateway knows by its client key. Run it with `node examples/node-ssr/generate.ts` (Node 24 runs
 * TypeScript as is), with GATEWAY_URL and GATEWAY_CLIENT_KEY set.
 */
import { createFalClient, type QueueStatus } from '@fal-ai/client'

const gatewayUrl = process.env.GATEWAY_URL ?? 'http://127.0.0.1:3000'
// Issued with `npm run hash-key`, its hash listed under `keys` in the gateway's policy file.
const clientKey = process.env.GATEWAY_CLIENT_KEY
if (clientKey === undefined) throw new Error('Set GATEWAY_CLIENT_KEY to a client key of the gateway\'s policy file')

const fal = createFalClient({
  // Outside a browser, the client proxies only with `when: 'always'`: the string form would send
  // every call straight to fal, which fails (`fetch failed`, or 401 with no fal key).
  proxyUrl: { url: `${gatewayUrl}/api/fal/proxy`, when: 'always' },
  // No fal key on this side, even when FAL_KEY is in the environment: the gateway holds it.
  credentials: undefined,
  // Who this caller is, for the gateway's limits and budgets; it is never forwarded to fal.
  requestMiddleware: async request => ({ ...request, headers: { ...request.headers, authorization: `Bearer ${clientKey}` } })
})

const { data, requestId } = await fal.subscribe('fal-ai/illusion-diffusion', {
  input: {
    image_url: process.env.PATTERN_URL ?? 'https://storage.googleapis.com/falserverless/illusion-examples/checkers.png',
    prompt: process.argv[2] ?? 'a medieval village, aerial view'
  },
  logs: true,
  onQueueUpdate: (update: QueueStatus) => { process.stderr.write(`${update.status}\n`) }
})
const { image } = data as { image: { url: string } }
process.stdout.write(`${JSON.stringify({ requestId, image: image.url })}\n`)
