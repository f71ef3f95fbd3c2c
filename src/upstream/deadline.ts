/**
 * The total deadline of one call to fal: it fires as a timeout after `timeoutMs`, or with the
 * caller's own reason (the client left) when `signal` fires first. Retries share it.
 */
export function withDeadline (timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const deadline = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? deadline : AbortSignal.any([signal, deadline])
}

export interface AnswerDeadline {
  signal: AbortSignal
  /** The answer came: the call lives on under `signal`'s caller alone. */
  settle: () => void
}

/**
 * A deadline on fal's answer (its status line and headers) but not on the body after it, for
 * status streams that legitimately stay open for minutes once fal has answered.
 */
export function answerDeadline (timeoutMs: number, signal?: AbortSignal): AnswerDeadline {
  const controller = new AbortController()
  const timer = setTimeout(() => {
    controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError'))
  }, timeoutMs)
  timer.unref()
  return {
    signal: signal === undefined ? controller.signal : AbortSignal.any([signal, controller.signal]),
    settle: () => { clearTimeout(timer) }
  }
}
