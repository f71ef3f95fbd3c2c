import { createFalClient } from '@fal-ai/client'

/** The gateway's proxy: `npm run dev` at the project root prints it; set it in `.env`. */
export const PROXY_URL: string = import.meta.env.VITE_FAL_PROXY_URL ?? 'http://127.0.0.1:3000/api/fal/proxy'

/**
 * The official client, pointed at the gateway: every call goes to `proxyUrl` with the fal URL in
 * `x-fal-target-url`, and the gateway adds the fal key. No credentials here, ever.
 */
export const fal = createFalClient({
  proxyUrl: PROXY_URL,
  // The gateway's 429 says how long to wait; show it rather than retrying blindly.
  retry: { retryableStatusCodes: [502, 503, 504] }
})
