import { setTimeout as sleep } from 'node:timers/promises'

export interface SubmitOptions {
  /** Gateway base URL. */
  url: string
  appId: string
  count: number
  /** Headers that identify the benchmark client, sent with every submit (and every poll). */
  headers: Record<string, string>
  concurrency?: number
}

/**
 * Submits `count` jobs through the gateway's typed route, as the benchmark client, so that the
 * client owns every request id it then polls. Fails on the first refusal, with fal's or the
 * gateway's answer, so a limit set too low is named rather than measured.
 */
export async function submitJobs (options: SubmitOptions): Promise<string[]> {
  const ids: string[] = []
  let started = 0
  const worker = async () => {
    while (started < options.count) {
      started++
      const { status, text } = await fetchPatiently(`${options.url}/queue/${options.appId}`, {
        method: 'POST',
        headers: { ...options.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'benchmark' })
      })
      if (status !== 202) throw new Error(`submit through ${options.url} answered ${status}: ${text.slice(0, 300)}`)
      ids.push((JSON.parse(text) as { request_id: string }).request_id)
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker))
  return ids
}

const SHED_RETRIES = 20

/**
 * fetch that waits out the gateway's load shedding (503 OVERLOADED), as a client honouring
 * Retry-After would: a process just started, on a busy machine, can shed its first requests.
 */
export async function fetchPatiently (url: string, init: RequestInit): Promise<{ status: number, text: string }> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) })
    const text = await response.text()
    if (response.status !== 503 || attempt === SHED_RETRIES) return { status: response.status, text }
    await sleep(Math.min(1000, Number(response.headers.get('retry-after') ?? 1) * 1000))
  }
}
