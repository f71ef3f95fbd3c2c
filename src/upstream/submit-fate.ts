import { FalFailure } from './fal-failure.js'

/** Connection errors raised before a byte of the request left: fal cannot have seen the job. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * Whether a failed submit proves fal did not take the job: fal answered an error status (4xx,
 * 429, 5xx) or a redirect, the breaker kept the call from leaving, or the connection was never
 * made. Anything else (a timeout, a connection reset after the request was sent, an unreadable
 * success) leaves the job possibly running at fal, so it stays counted, owned and charged.
 */
export function falRefusedSubmit (error: unknown): boolean {
  if (!(error instanceof FalFailure)) return false
  switch (error.outcome.kind) {
    case 'answered':
    case 'redirected':
    case 'circuit-open':
      return true
    case 'unreachable':
      return NEVER_SENT.has(codeOf(error.reason) ?? '')
    default:
      return false
  }
}

/** The system error code of what a transport threw, looking through fetch's `cause` wrapper. */
function codeOf (reason: unknown): string | undefined {
  for (let error = reason, depth = 0; typeof error === 'object' && error !== null && depth < 4; depth++) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string' && code.startsWith('E')) return code
    error = (error as { cause?: unknown }).cause
  }
  return undefined
}
