import createError from '@fastify/error'

// A presented credential that does not check out is refused outright: falling back to anonymous
// would let a revoked or expired client keep using the gateway under another identity.
export const InvalidCredentialsError = createError<'INVALID_CREDENTIALS', 401, [reason: string, options?: { cause: unknown }]>(
  'INVALID_CREDENTIALS', 'Invalid credentials: %s', 401)

export const AnonymousDisabledError = createError<'ANONYMOUS_DISABLED', 401, []>(
  'ANONYMOUS_DISABLED', 'Authentication required', 401)

// The JWKS endpoint is down or answers garbage: not the client's fault, so not a 401.
export const IdentityProviderUnavailableError = createError<'IDENTITY_PROVIDER_UNAVAILABLE', 503, [options?: { cause: unknown }]>(
  'IDENTITY_PROVIDER_UNAVAILABLE', 'Identity provider unavailable', 503)
