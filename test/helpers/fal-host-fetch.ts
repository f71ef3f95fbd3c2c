/** fal's hosts, and where each lives on the emulator's one port (the run host under /run). */
const FAL_HOSTS: Array<[host: string, path: string]> = [['https://queue.fal.run', ''], ['https://rest.fal.ai', ''], ['https://fal.run', '/run']]

/**
 * A `fetch` for `createFalClient({ fetch })` that sends fal's queue, REST and run hosts to
 * `baseUrl` (an emulator), so the official client runs unmodified against a local server.
 * URLs already on `baseUrl` (upload and file URLs the emulator hands out) pass through as they are.
 */
export function falHostFetch (baseUrl: string): typeof fetch {
  const base = baseUrl.replace(/\/+$/, '')
  const rewrite = (url: string): string => {
    for (const [host, path] of FAL_HOSTS) {
      if (url === host || url.startsWith(`${host}/`) || url.startsWith(`${host}?`)) return base + path + url.slice(host.length)
    }
    return url
  }
  return async (input, init) => {
    if (input instanceof Request) return await fetch(new Request(rewrite(input.url), input), init)
    return await fetch(rewrite(input instanceof URL ? input.href : input), init)
  }
}
