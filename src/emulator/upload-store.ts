import { randomUUID } from 'node:crypto'

export interface Upload {
  contentType: string
  fileName: string
  /** Undefined until the bytes are PUT. */
  bytes?: Buffer
}

const MAX_UPLOADS = 10_000
const MAX_TOTAL_BYTES = 256 * 1024 * 1024

/** Uploaded files in memory, oldest dropped first once over a count or byte budget. */
export class UploadStore {
  readonly #uploads = new Map<string, Upload>()
  #totalBytes = 0

  initiate (contentType: string, fileName: string): string {
    const token = randomUUID()
    this.#uploads.set(token, { contentType, fileName })
    this.#trim()
    return token
  }

  get (token: string): Upload | undefined {
    return this.#uploads.get(token)
  }

  /** Stores the bytes for an initiated upload; false when the token is unknown. */
  put (token: string, bytes: Buffer, contentType: string | undefined): boolean {
    const upload = this.#uploads.get(token)
    if (upload === undefined) return false
    this.#totalBytes += bytes.length - (upload.bytes?.length ?? 0)
    upload.bytes = bytes
    if (contentType !== undefined && contentType !== '') upload.contentType = contentType
    this.#trim()
    return true
  }

  #trim (): void {
    for (const [token, upload] of this.#uploads) {
      if (this.#uploads.size <= MAX_UPLOADS && this.#totalBytes <= MAX_TOTAL_BYTES) return
      this.#totalBytes -= upload.bytes?.length ?? 0
      this.#uploads.delete(token)
    }
  }
}
