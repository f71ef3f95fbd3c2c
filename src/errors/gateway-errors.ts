import createError, { type FastifyErrorConstructor } from '@fastify/error'

/**
 * Every error the gateway answers with, each with a stable `code` that clients can switch on.
 * The HTTP body is always `{ statusCode, code, error, message }` (plus `detail` for validation).
 */

/** One field error, in the shape fal (FastAPI) uses so `@fal-ai/client` raises ValidationError. */
export interface FieldError {
  loc: Array<string | number>
  msg: string
  type: string
}

type ErrorWithExtras = InstanceType<FastifyErrorConstructor> & {
  detail?: FieldError[]
  retryAfterSeconds?: number
}

function withExtras<Args extends unknown[]> (
  Base: FastifyErrorConstructor,
  extras: (...args: Args) => { detail?: FieldError[], retryAfterSeconds?: number, messageArgs?: unknown[] }
) {
  return function build (...args: Args): ErrorWithExtras {
    const { messageArgs = [], ...rest } = extras(...args)
    return Object.assign(new Base(...messageArgs), rest)
  }
}

export const ValidationFailed = withExtras(
  createError('VALIDATION_FAILED', 'Invalid input: %s', 422),
  (detail: FieldError[]) => ({ detail, messageArgs: [detail.map(field => `${field.loc.slice(1).join('.') || field.loc[0]}: ${field.msg}`).join('; ')] })
)

export const ModelNotFound = createError('MODEL_NOT_FOUND', "Model '%s' is not served by this gateway", 404)
export const RequestNotFound = createError('REQUEST_NOT_FOUND', 'No request with this id was found', 404)
export const RouteNotFound = createError('ROUTE_NOT_FOUND', 'Route %s %s not found', 404)
export const AlreadyCompleted = createError('ALREADY_COMPLETED', 'The request has already completed and cannot be cancelled', 400)
export const RequestNotReady = createError('REQUEST_NOT_READY', 'The request has not completed yet: poll its status first', 400)
export const WebhookNotAllowed = createError('WEBHOOK_NOT_ALLOWED', "Webhook host '%s' is not on this gateway's allowlist", 400)
export const InvalidJson = createError('INVALID_JSON', 'The request body is not valid JSON', 400)
export const BadRequest = createError('BAD_REQUEST', '%s', 400)
export const UnsupportedMediaType = createError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as application/json', 415)
export const BodyTooLarge = createError('BODY_TOO_LARGE', 'The request body is larger than the %s bytes this gateway accepts', 413)
export const ModelNotAllowed = createError('MODEL_NOT_ALLOWED', "Your tier may not use model '%s'", 403)
export const AdminUnauthorized = createError('ADMIN_UNAUTHORIZED', 'Send Authorization: Bearer <ADMIN_TOKEN>', 401)
export const TargetNotAllowed = createError('TARGET_NOT_ALLOWED', '%s', 403)
export const UpstreamRejected = createError('UPSTREAM_REJECTED', 'fal refused the request: %s', 400)

export const RateLimited = withExtras(
  createError('RATE_LIMITED', 'Too many %s requests: retry in %s seconds', 429),
  (bucket: string, retryAfterSeconds: number) => ({ retryAfterSeconds, messageArgs: [bucket, retryAfterSeconds] })
)

export const JobLimited = withExtras(
  createError('CONCURRENCY_LIMIT', '%s', 429),
  (code: 'CONCURRENCY_LIMIT' | 'QUOTA_EXCEEDED', retryAfterSeconds: number) => ({
    code,
    retryAfterSeconds,
    messageArgs: [code === 'QUOTA_EXCEEDED'
      ? `Daily submit quota used up: it resets in ${retryAfterSeconds} seconds`
      : `Too many jobs in flight: retry in up to ${retryAfterSeconds} seconds, or as soon as one finishes`]
  })
)

/** A 503 that says when to come back: its message and its Retry-After carry the same seconds. */
function retryLater (code: string, message: string) {
  return withExtras(createError(code, message, 503), (retryAfterSeconds: number) => ({ retryAfterSeconds, messageArgs: [retryAfterSeconds] }))
}

export const UpstreamBusy = retryLater('UPSTREAM_BUSY', 'fal is rate limiting this gateway: retry in %s seconds')

export const UpstreamError = createError('UPSTREAM_ERROR', 'fal failed to handle the request', 502)
export const UpstreamUnreachable = createError('UPSTREAM_UNREACHABLE', 'fal could not be reached', 502)
export const UpstreamMalformed = createError('UPSTREAM_MALFORMED', 'fal answered with an unreadable response', 502)
export const UpstreamTimeout = createError('UPSTREAM_TIMEOUT', 'fal did not answer in time', 504)
export const CircuitOpen = retryLater('CIRCUIT_OPEN', 'fal is failing: calls are paused, retry in %s seconds')
export const Overloaded = retryLater('OVERLOADED', 'The gateway is overloaded: retry in %s seconds')

// fal's webhooks to the gateway (src/webhooks/fal-receiver.ts), and the operator's dead letters.
export const WebhookUnsigned = createError('WEBHOOK_UNSIGNED', "The delivery lacks fal's signature headers", 401)
export const WebhookSignatureInvalid = createError('WEBHOOK_SIGNATURE_INVALID', "The delivery's signature does not verify against fal's keys", 401)
export const WebhookStale = createError('WEBHOOK_STALE', 'The delivery was signed more than 300 seconds from now', 401)
export const WebhookMalformed = createError('WEBHOOK_MALFORMED', 'The delivery is not a fal webhook body: %s', 400)
export const WebhookUnknownRequest = createError('WEBHOOK_UNKNOWN_REQUEST', 'This gateway did not submit that request', 404)
export const WebhookReplayed = createError('WEBHOOK_REPLAYED', 'This delivery was received before', 409)
export const FalJwksUnavailable = retryLater('FAL_JWKS_UNAVAILABLE', "fal's signing keys could not be fetched: retry in %s seconds")
export const WebhookDeliveryNotFound = createError('WEBHOOK_DELIVERY_NOT_FOUND', 'No failed webhook delivery with this id', 404)

export const ShuttingDown = createError('SHUTTING_DOWN', 'The gateway is shutting down: retry on another instance', 503)
export const GatewayMisconfigured = createError('GATEWAY_MISCONFIGURED', 'The gateway is misconfigured; its operator has been alerted', 502)
/** The client went away before its answer: nothing to answer, and nothing wrong with the gateway. */
export const ClientClosedRequest = createError('CLIENT_CLOSED_REQUEST', 'The client closed the request before its answer', 499)
export const InternalError = createError('INTERNAL_ERROR', 'Something went wrong in the gateway', 500)
