import { createHash, verify, type KeyObject } from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'

/** fal's four webhook headers, read and shape-checked. */
export interface FalSignature {
  requestId: string
  userId: string
  /** Epoch seconds, exactly as sent (the signed message holds the text, not the number). */
  timestamp: string
  signature: Buffer
}

/** fal refuses timestamps more than this far from now, either way; so does the gateway. */
export const TIMESTAMP_TOLERANCE_S = 300

const TIMESTAMP = /^\d{1,12}$/
const SIGNATURE = /^[0-9a-fA-F]{128}$/
const ID = /^[A-Za-z0-9._:-]{1,128}$/

function single (headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

/** The signature headers, or undefined when one is missing, repeated or malformed. */
export function readFalSignature (headers: IncomingHttpHeaders): FalSignature | undefined {
  const requestId = single(headers, 'x-fal-webhook-request-id')
  const userId = single(headers, 'x-fal-webhook-user-id')
  const timestamp = single(headers, 'x-fal-webhook-timestamp')
  const signature = single(headers, 'x-fal-webhook-signature')
  if (requestId === undefined || userId === undefined || timestamp === undefined || signature === undefined) return undefined
  if (!ID.test(requestId) || !ID.test(userId) || !TIMESTAMP.test(timestamp) || !SIGNATURE.test(signature)) return undefined
  return { requestId, userId, timestamp, signature: Buffer.from(signature, 'hex') }
}

export function isTimely (timestamp: string, nowMs = Date.now()): boolean {
  return Math.abs(nowMs / 1000 - Number(timestamp)) <= TIMESTAMP_TOLERANCE_S
}

/** What fal signs: `request_id \n user_id \n timestamp \n hex(sha256(raw body))`. */
export function signedMessage ({ requestId, userId, timestamp }: FalSignature, rawBody: Buffer): Buffer {
  return Buffer.from(`${requestId}\n${userId}\n${timestamp}\n${createHash('sha256').update(rawBody).digest('hex')}`, 'utf8')
}

/** Ed25519 by node:crypto; any of fal's published keys may have signed. */
export function signedByAny (keys: KeyObject[], message: Buffer, signature: Buffer): boolean {
  return keys.some(key => verify(null, message, key, signature))
}
