import { createHash } from 'node:crypto'
import canonicalize from 'canonicalize'
import { IdempotencyKeyInUse, IdempotencyKeyInvalid } from '../errors/gateway-errors.js'

/** Stripe's bound, and the issue's: longer keys are refused, not truncated. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255

const VISIBLE_ASCII = /^[\x20-\x7e]+$/

/**
 * The `Idempotency-Key` of a request, or undefined without one. The IETF draft makes it a
 * structured-field string (`"8e03978e-…"`); Stripe and most clients send the bare value: both are
 * accepted, a quoted value being unquoted. More than one header, an empty value, more than 255
 * characters or anything outside visible ASCII is 400 IDEMPOTENCY_KEY_INVALID.
 */
export function parseIdempotencyKey (header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined
  if (Array.isArray(header)) throw new IdempotencyKeyInvalid()
  let key = header.trim()
  const quoted = /^"((?:[^"\\]|\\["\\])*)"$/.exec(key)
  if (quoted !== null) key = (quoted[1] as string).replace(/\\(["\\])/g, '$1')
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH || !VISIBLE_ASCII.test(key)) throw new IdempotencyKeyInvalid()
  return key
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex')

/**
 * Where a key lives: per client and per endpoint (the typed route and the proxy route share it),
 * hashed so that a store key has a fixed length and nothing a client sends is ever part of one.
 */
export function idempotencyScope (clientId: string, endpointId: string, key: string): string {
  return sha256(JSON.stringify([clientId, endpointId, key]))
}

/**
 * The fingerprint of what a submit asks for: the RFC 8785 canonical JSON of the body (and of
 * whatever else changes the job, e.g. its webhook), so that `{"a":1,"b":2}` and `{"b":2,"a":1}`
 * are the same request and key order, which the client controls, changes nothing.
 */
export function requestFingerprint (request: unknown): string {
  return sha256(canonicalize(request) ?? 'undefined')
}

/** The 409 for a key whose first submit has no answer yet, or never will. */
export function keyInUse (unknownOutcome: boolean): InstanceType<typeof IdempotencyKeyInUse> {
  return new IdempotencyKeyInUse(unknownOutcome
    ? 'The request first sent with this Idempotency-Key may have started a job at fal but its answer was lost; it will not be started twice: send a new key to submit again'
    : 'A request with this Idempotency-Key is still on its way to fal: retry in a moment to get its answer')
}
