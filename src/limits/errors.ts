import createError from '@fastify/error'

// Raised instead of waiting when the store cannot answer; the caller applies its fail mode.
export const StoreUnavailableError = createError<'STORE_UNAVAILABLE', 503, [options?: { cause: unknown }]>(
  'STORE_UNAVAILABLE', 'Limit store unavailable', 503)
