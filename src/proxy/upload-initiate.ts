import { Type } from '@sinclair/typebox'

/** The body `@fal-ai/client` sends to start an upload; anything else is not an upload. */
export const UploadInitiateSchema = Type.Object({
  content_type: Type.String({ minLength: 1, maxLength: 255 }),
  file_name: Type.String({ minLength: 1, maxLength: 1024 })
}, { additionalProperties: false })
