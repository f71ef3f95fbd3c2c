import type { Departure } from './departure.js'

export interface Deadline {
  /** Fires with a TimeoutError after `timeoutMs`, or with the caller's reason when it fires first. */
  signal: AbortSignal
  /** The answer came: no timeout any more, but the caller's signal still aborts (streams). */
  settle: () => void
  /** The call is over: no timeout, and the caller's signal is let go. */
  release: () => void
}

/**
 * The total deadline of one call to fal, retries included. Built from one controller and one
 * timer that are let go as soon as the call ends: `AbortSignal.timeout` and `AbortSignal.any`
 * cost a measurable share of a poll (BENCHMARKS.md) and keep their timers until they fire.
 */
export function startDeadline (timeoutMs: number, caller?: Departure): Deadline {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'))
  }, timeoutMs)
  timer.unref()
  const leave = (): void => { controller.abort(caller?.reason) }
  if (caller?.aborted === true) leave()
  else caller?.addEventListener('abort', leave, { once: true })
  const settle = (): void => { clearTimeout(timer) }
  return {
    signal: controller.signal,
    settle,
    release: () => {
      settle()
      caller?.removeEventListener('abort', leave)
    }
  }
}
