import { createHash, generateKeyPairSync, randomUUID, sign, type JsonWebKey, type KeyObject } from 'node:crypto'

export interface SigningKey {
  kid: string
  privateKey: KeyObject
  publicJwk: JsonWebKey
}

export interface WebhookJwks {
  keys: JsonWebKey[]
}

/** The four headers fal signs a webhook delivery with. */
export interface FalWebhookHeaders {
  'x-fal-webhook-request-id': string
  'x-fal-webhook-user-id': string
  'x-fal-webhook-timestamp': string
  'x-fal-webhook-signature': string
}

function newKey (): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const kid = randomUUID()
  return { kid, privateKey, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'EdDSA' } }
}

/** The message fal signs: `request_id \n user_id \n timestamp \n hex(sha256(raw body))`. */
export function falSignedMessage (requestId: string, userId: string, timestamp: string, body: Buffer): Buffer {
  return Buffer.from([requestId, userId, timestamp, createHash('sha256').update(body).digest('hex')].join('\n'), 'utf8')
}

/**
 * fal's webhook signing keys, as the emulator plays them: an Ed25519 key pair made per run,
 * published as a JWKS; `rotate` adds a new signing key (and may retire the old ones), as fal does
 * when it rotates.
 */
export class WebhookKeys {
  #current: SigningKey = newKey()
  #published: SigningKey[] = [this.#current]

  jwks (): WebhookJwks {
    return { keys: this.#published.map(key => key.publicJwk) }
  }

  /** A new key signs from now on; the old ones stay published unless `retire`. */
  rotate (retire = false): void {
    this.#current = newKey()
    this.#published = retire ? [this.#current] : [...this.#published, this.#current]
  }

  /** fal's headers for `body`; `forged` signs with a key that was never published. */
  headers (requestId: string, userId: string, timestamp: number, body: Buffer, forged = false): FalWebhookHeaders {
    const seconds = String(timestamp)
    const key = forged ? newKey() : this.#current
    const signature = sign(null, falSignedMessage(requestId, userId, seconds, body), key.privateKey).toString('hex')
    return {
      'x-fal-webhook-request-id': requestId,
      'x-fal-webhook-user-id': userId,
      'x-fal-webhook-timestamp': seconds,
      'x-fal-webhook-signature': signature
    }
  }
}
