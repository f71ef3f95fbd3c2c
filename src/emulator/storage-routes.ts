import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { falHooks, type FalHooksContext } from './fal-hooks.js'
import { checkFields, isInput, isString, notAnObject } from './validation.js'
import { UploadStore, type CompletedPart } from './upload-store.js'

export interface StorageRoutesOptions {
  hooks: FalHooksContext
  baseUrl (request: FastifyRequest): string
}

// fal switches to multipart uploads above 90 MiB; the emulator keeps single PUTs well below that.
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024

interface TokenParams { token: string, name?: string }
interface PartParams { token: string, part: string }

/**
 * fal's storage on the emulator's own port: initiate (keyed) answers a signed-looking upload URL,
 * the PUT (no key, raw bytes of any type) stores them, and the file URL serves them back. Files
 * over 90 MiB go multipart, as `@fal-ai/client` does it: `initiate-multipart` (keyed), then
 * `PUT {upload_url}/{part number}` for each 10 MiB part (answered `{ partNumber, etag }`), then
 * `POST {upload_url}/complete` with `{ parts: [{ partNumber, etag }] }`.
 */
export function storageRoutes (app: FastifyInstance, options: StorageRoutesOptions): void {
  const { hooks, baseUrl } = options
  const uploads = new UploadStore()

  const initiate = (uploadPath: string) => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body
    const errors = isInput(body)
      ? checkFields(body, { content_type: { required: true, check: isString }, file_name: { required: true, check: isString } })
      : notAnObject()
    if (errors.length > 0 || !isInput(body)) return reply.code(422).send({ detail: errors })
    const fileName = safeFileName(body.file_name as string)
    const token = uploads.initiate(body.content_type as string, fileName)
    const base = baseUrl(request)
    return {
      upload_url: `${base}/${uploadPath}/${token}`,
      file_url: `${base}/files/uploads/${token}/${encodeURIComponent(fileName)}`
    }
  }
  app.post('/storage/upload/initiate', falHooks(hooks, 'upload-initiate', true), initiate('storage/uploads'))
  app.post('/storage/upload/initiate-multipart', falHooks(hooks, 'upload-initiate-multipart', true), initiate('storage/multipart'))

  // Raw bytes of any content type, JSON included: a parser scope of its own for this one route.
  app.register(async scope => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_request, body, done) => { done(null, body) })
    // Browsers PUT uploads cross-origin, as to fal's storage, which answers CORS for them.
    scope.addHook('onRequest', async (_request, reply) => { reply.header('access-control-allow-origin', '*') })
    scope.options('/storage/uploads/:token', async (_request, reply) => reply
      .header('access-control-allow-methods', 'PUT')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-max-age', '600')
      .code(204)
      .send())
    scope.put<{ Params: TokenParams }>('/storage/uploads/:token', falHooks(hooks, 'upload-put', false), async (request, reply) => {
      const bytes = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
      if (!uploads.put(request.params.token, bytes, request.headers['content-type'])) {
        return reply.code(404).send({ detail: 'Upload not found' })
      }
      return reply.code(200).send()
    })

    scope.options('/storage/multipart/*', async (_request, reply) => reply
      .header('access-control-allow-methods', 'PUT, POST')
      .header('access-control-allow-headers', 'content-type')
      .header('access-control-expose-headers', 'etag')
      .header('access-control-max-age', '600')
      .code(204)
      .send())
    scope.put<{ Params: PartParams }>('/storage/multipart/:token/:part', falHooks(hooks, 'upload-part', false), async (request, reply) => {
      const partNumber = Number(request.params.part)
      if (!Number.isSafeInteger(partNumber) || partNumber < 1 || partNumber > 10_000) return reply.code(400).send({ detail: 'Invalid part number' })
      const etag = uploads.putPart(request.params.token, partNumber, Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0))
      if (etag === undefined) return reply.code(404).send({ detail: 'Upload not found' })
      return reply.header('etag', `"${etag}"`).send({ partNumber, etag })
    })
    // The body is JSON, read from the raw bytes this scope receives.
    scope.post<{ Params: { token: string } }>('/storage/multipart/:token/complete', falHooks(hooks, 'upload-complete', false), async (request, reply) => {
      const parts = completedParts(request.body)
      if (parts === undefined) return reply.code(422).send({ detail: 'Send { parts: [{ partNumber, etag }] }' })
      if (!uploads.complete(request.params.token, parts)) return reply.code(400).send({ detail: 'Upload not found, or a part is missing or does not match its etag' })
      return reply.send({ status: 'completed' })
    })
  })

  app.get<{ Params: TokenParams }>('/files/uploads/:token/:name', falHooks(hooks, 'file', false), async (request, reply) => {
    const upload = uploads.get(request.params.token)
    if (upload?.bytes === undefined || upload.fileName !== request.params.name) return reply.code(404).send({ detail: 'File not found' })
    return reply.type(upload.contentType).send(upload.bytes)
  })
}

function completedParts (body: unknown): CompletedPart[] | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.isBuffer(body) ? body.toString('utf8') : '')
  } catch {
    return undefined
  }
  const parts = (parsed as { parts?: unknown } | null)?.parts
  if (!Array.isArray(parts)) return undefined
  const valid = parts.every(part => Number.isSafeInteger(part?.partNumber) && typeof part?.etag === 'string')
  return valid ? parts as CompletedPart[] : undefined
}

function safeFileName (name: string): string {
  const cleaned = name.replace(/[^\w.-]+/g, '_').slice(-128)
  return cleaned === '' ? 'file' : cleaned
}
