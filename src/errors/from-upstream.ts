import type { FalFailure } from '../upstream/fal-failure.js'
import {
  AlreadyCompleted,
  CircuitOpen,
  GatewayMisconfigured,
  RequestNotFound,
  RequestNotReady,
  UpstreamBusy,
  UpstreamError,
  UpstreamMalformed,
  UpstreamRejected,
  UpstreamTimeout,
  UpstreamUnreachable,
  ValidationFailed,
  type FieldError
} from './gateway-errors.js'

const DEFAULT_BUSY_RETRY_SECONDS = 5
const MAX_PASSED_MESSAGE = 300

/**
 * What the client learns of a failed call to fal, decided here and nowhere else: fal's 4xx keep
 * their meaning, everything else becomes a generic gateway error. fal's own 5xx bodies never
 * reach the client; what does pass of a 4xx was scrubbed of credentials by the upstream layer.
 */
export function fromUpstream (failure: FalFailure): Error {
  const { outcome, body } = failure
  switch (outcome.kind) {
    // The breaker refused the call at once; fal was not called.
    case 'circuit-open': return new CircuitOpen(outcome.retryAfterSeconds)
    case 'timeout': return new UpstreamTimeout()
    case 'malformed': return new UpstreamMalformed()
    case 'unreachable': return new UpstreamUnreachable()
    // fal never redirects its API: a redirect is fal (or something in front of it) failing.
    case 'redirected': return new UpstreamError()
  }
  const { status } = outcome
  if (status === 401 || status === 403) return new GatewayMisconfigured()
  if (status === 429) return new UpstreamBusy(outcome.retryAfterSeconds ?? DEFAULT_BUSY_RETRY_SECONDS)
  if (status >= 500) return new UpstreamError()
  const cancelStatus = fieldOf(body, 'status')
  if (cancelStatus === 'ALREADY_COMPLETED') return new AlreadyCompleted()
  if (status === 404) return new RequestNotFound()
  if (status === 422) return new ValidationFailed(fieldErrorsOf(body))
  const detail = fieldOf(body, 'detail')
  if (status === 400 && typeof detail === 'string' && /in progress|not completed|in queue/i.test(detail)) {
    return new RequestNotReady()
  }
  return new UpstreamRejected(status, typeof detail === 'string' ? detail.slice(0, MAX_PASSED_MESSAGE) : `status ${status}`)
}

function fieldOf (body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined
}

/** Keeps only the documented fields of fal's 422 detail list. */
function fieldErrorsOf (body: unknown): FieldError[] {
  const detail = fieldOf(body, 'detail')
  if (typeof detail === 'string') return [{ loc: ['body'], msg: detail.slice(0, MAX_PASSED_MESSAGE), type: 'value_error' }]
  if (!Array.isArray(detail)) return [{ loc: ['body'], msg: 'fal refused the input', type: 'value_error' }]
  return detail.map(item => ({
    loc: Array.isArray(fieldOf(item, 'loc')) ? (fieldOf(item, 'loc') as Array<string | number>).map(part => typeof part === 'number' ? part : String(part)) : ['body'],
    msg: String(fieldOf(item, 'msg') ?? 'invalid value').slice(0, MAX_PASSED_MESSAGE),
    type: String(fieldOf(item, 'type') ?? 'value_error')
  }))
}
