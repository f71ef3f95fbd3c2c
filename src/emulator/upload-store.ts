import { createHash, randomUUID } from 'node:crypto'

export interface Upload {
  contentType: string
  fileName: string
  /** Undefined until the bytes are PUT (or a multipart upload completes). */
  bytes?: Buffer
  /** A multipart upload's parts by number, until it completes. */
  parts?: Map<number, { bytes: Buffer, etag: string }>
}

export interface CompletedPart { partNumber: number, etag: string }

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

  /** Stores one part of a multipart upload; its etag, or undefined when the token is unknown. */
  putPart (token: string, partNumber: number, bytes: Buffer): string | undefined {
    const upload = this.#uploads.get(token)
    if (upload === undefined) return undefined
    const parts = upload.parts ??= new Map()
    const etag = createHash('md5').update(bytes).digest('hex')
    this.#totalBytes += bytes.length - (parts.get(partNumber)?.bytes.length ?? 0)
    parts.set(partNumber, { bytes, etag })
    this.#trim()
    return etag
  }

  /**
   * Joins the listed parts, in part-number order, into the file: false when the token is unknown
   * or a part is missing or its etag does not match, as S3 answers.
   */
  complete (token: string, listed: CompletedPart[]): boolean {
    const upload = this.#uploads.get(token)
    const parts = upload?.parts
    if (upload === undefined || parts === undefined || listed.length === 0) return false
    const ordered = [...listed].sort((a, b) => a.partNumber - b.partNumber)
    const chunks: Buffer[] = []
    for (const { partNumber, etag } of ordered) {
      const part = parts.get(partNumber)
      if (part === undefined || part.etag !== etag) return false
      chunks.push(part.bytes)
    }
    const bytes = Buffer.concat(chunks)
    let partBytes = 0
    for (const part of parts.values()) partBytes += part.bytes.length
    this.#totalBytes += bytes.length - partBytes
    upload.parts = undefined
    upload.bytes = bytes
    this.#trim()
    return true
  }

  #trim (): void {
    for (const [token, upload] of this.#uploads) {
      if (this.#uploads.size <= MAX_UPLOADS && this.#totalBytes <= MAX_TOTAL_BYTES) return
      this.#totalBytes -= upload.bytes?.length ?? 0
      for (const part of upload.parts?.values() ?? []) this.#totalBytes -= part.bytes.length
      this.#uploads.delete(token)
    }
  }
}
