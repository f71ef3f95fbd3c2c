import createError from '@fastify/error'

/**
 * Every error the gateway answers with, in one module and one scheme: each is a class named after
 * its stable `code` (`VALIDATION_FAILED` is `ValidationFailed`), built with `new`, answered by the
 * one error handler (plugins/app/error-handler.ts) as `{ statusCode, code, error, message }`
 * (plus `detail` for validation, and a `Retry-After` header where a retry can help).
 * How fal failed is the upstream layer's own vocabulary (upstream/fal-failure.ts), turned into
 * one of these once, by errors/from-upstream.ts.
 */

/** One field error, in the shape fal (FastAPI) uses so `@fal-ai/client` raises ValidationError. */
export interface FieldError {
  loc: Array<string | number>
  msg: string
  type: string
}

type Cause = { cause: unknown }

export class ValidationFailed extends createError('VALIDATION_FAILED', 'Invalid input: %s', 422) {
  readonly detail: FieldError[]
  constructor (detail: FieldError[]) {
    super(detail.map(field => `${field.loc.slice(1).join('.') || field.loc[0]}: ${field.msg}`).join('; '))
    this.detail = detail
  }
}

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
export const MetricsUnauthorized = createError('METRICS_UNAUTHORIZED', 'Send Authorization: Bearer <METRICS_TOKEN>', 401)

// A presented credential that does not check out is refused outright: falling back to anonymous
// would let a revoked or expired client keep using the gateway under another identity.
export const InvalidCredentials = createError<'INVALID_CREDENTIALS', 401, [reason: string, options?: Cause]>('INVALID_CREDENTIALS', 'Invalid credentials: %s', 401)
export const AnonymousDisabled = createError<'ANONYMOUS_DISABLED', 401, []>('ANONYMOUS_DISABLED', 'Authentication required', 401)

/** fal refused the request with a 4xx of its own; its status is passed on. */
export class UpstreamRejected extends createError<'UPSTREAM_REJECTED', number, [reason: string]>('UPSTREAM_REJECTED', 'fal refused the request: %s', 400) {
  constructor (status: number, reason: string) {
    super(reason)
    this.statusCode = status
  }
}

/**
 * Errors that say when to come back: `retryAfterSeconds` becomes the `Retry-After` header, and
 * the message names the same seconds.
 */
function retryLater<Code extends string, Args extends unknown[]> (code: Code, statusCode: 429 | 503, describe: (retryAfterSeconds: number, ...args: Args) => string) {
  return class extends createError(code, '%s', statusCode) {
    readonly retryAfterSeconds: number
    constructor (retryAfterSeconds: number, ...args: Args) {
      super(describe(retryAfterSeconds, ...args))
      this.retryAfterSeconds = retryAfterSeconds
    }
  }
}

export const RateLimited = retryLater('RATE_LIMITED', 429, (seconds, budget: string) => `Too many ${budget} requests: retry in ${seconds} seconds`)
export const ConcurrencyLimit = retryLater('CONCURRENCY_LIMIT', 429, seconds => `Too many jobs in flight: retry in up to ${seconds} seconds, or as soon as one finishes`)
export const QuotaExceeded = retryLater('QUOTA_EXCEEDED', 429, seconds => `Daily submit quota used up: it resets in ${seconds} seconds`)
export const UpstreamBusy = retryLater('UPSTREAM_BUSY', 503, seconds => `fal is rate limiting this gateway: retry in ${seconds} seconds`)
export const CircuitOpen = retryLater('CIRCUIT_OPEN', 503, seconds => `fal is failing: calls are paused, retry in ${seconds} seconds`)
export const TooManyStreams = retryLater('TOO_MANY_STREAMS', 429, (seconds, max: number) => `Too many open status streams: at most ${max} per client; close one, or retry in ${seconds} seconds`)
export const Overloaded = retryLater('OVERLOADED', 503, seconds => `The gateway is overloaded: retry in ${seconds} seconds`)

export const UpstreamError = createError('UPSTREAM_ERROR', 'fal failed to handle the request', 502)
export const UpstreamUnreachable = createError('UPSTREAM_UNREACHABLE', 'fal could not be reached', 502)
export const UpstreamMalformed = createError('UPSTREAM_MALFORMED', 'fal answered with an unreadable response', 502)
export const UpstreamTimeout = createError('UPSTREAM_TIMEOUT', 'fal did not answer in time', 504)

// Raised instead of waiting when the limit store cannot answer; the caller applies its fail mode.
export const StoreUnavailable = createError<'STORE_UNAVAILABLE', 503, [options?: Cause]>('STORE_UNAVAILABLE', 'Limit store unavailable', 503)
// The JWKS endpoint is down or answers garbage: not the client's fault, so not a 401.
export const IdentityProviderUnavailable = createError<'IDENTITY_PROVIDER_UNAVAILABLE', 503, [options?: Cause]>('IDENTITY_PROVIDER_UNAVAILABLE', 'Identity provider unavailable', 503)
// fal's webhooks to the gateway (src/webhooks/fal-receiver.ts), and the operator's dead letters.
export const WebhookUnsigned = createError('WEBHOOK_UNSIGNED', "The delivery lacks fal's signature headers", 401)
export const WebhookSignatureInvalid = createError('WEBHOOK_SIGNATURE_INVALID', "The delivery's signature does not verify against fal's keys", 401)
export const WebhookStale = createError('WEBHOOK_STALE', 'The delivery was signed more than 300 seconds from now', 401)
export const WebhookMalformed = createError('WEBHOOK_MALFORMED', 'The delivery is not a fal webhook body: %s', 400)
export const WebhookUnknownRequest = createError('WEBHOOK_UNKNOWN_REQUEST', 'This gateway did not submit that request', 404)
export const WebhookReplayed = createError('WEBHOOK_REPLAYED', 'This delivery was received before', 409)
export const FalJwksUnavailable = retryLater('FAL_JWKS_UNAVAILABLE', 503, seconds => `fal's signing keys could not be fetched: retry in ${seconds} seconds`)
export const ClientWebhooksDisabled = createError('CLIENT_WEBHOOKS_DISABLED', 'This gateway delivers no client webhooks (WEBHOOK_SECRET is not set): submit without fal_webhook', 400)
export const WebhookDeliveryNotFound = createError('WEBHOOK_DELIVERY_NOT_FOUND', 'No failed webhook delivery with this id', 404)

export const ShuttingDown = createError('SHUTTING_DOWN', 'The gateway is shutting down: retry on another instance', 503)
export const GatewayMisconfigured = createError('GATEWAY_MISCONFIGURED', 'The gateway is misconfigured; its operator has been alerted', 502)
/** The client went away before its answer: nothing to answer, and nothing wrong with the gateway. */
export const ClientClosedRequest = createError('CLIENT_CLOSED_REQUEST', 'The client closed the request before its answer', 499)
export const InternalError = createError('INTERNAL_ERROR', 'Something went wrong in the gateway', 500)

// Spend control (src/spend/): a budget in money, and the Idempotency-Key of a submit.
export const BudgetExceeded = retryLater('BUDGET_EXCEEDED', 429, (seconds, budget: string, remaining: string, limit: string, price: string) =>
  `Budget ${budget} would be exceeded: ${remaining} of ${limit} remains and this job costs ${price}; it resets in ${seconds} seconds`)
export const IdempotencyKeyInvalid = createError('IDEMPOTENCY_KEY_INVALID', 'Idempotency-Key must be one value of 1 to 255 visible ASCII characters', 400)
export const IdempotencyKeyReused = createError('IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used with another request body: send a new key for a new request', 422)
export const IdempotencyKeyInUse = createError('IDEMPOTENCY_KEY_IN_USE', '%s', 409)
