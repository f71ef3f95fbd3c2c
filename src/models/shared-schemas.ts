import { Type, type IntegerOptions, type Static } from '@sinclair/typebox'

/**
 * Schema pieces both model pages share. Transcribed from the "Other types" section of the
 * model pages in shared/seeds; descriptions are fal's own words.
 */

/**
 * An integer fal can take: JSON Schema's `integer` also admits 3.2e236, which fal refuses; the
 * gateway refuses it first, so it never costs a call.
 */
export const safeInteger = (options: IntegerOptions = {}) => Type.Integer({
  minimum: Number.MIN_SAFE_INTEGER,
  maximum: Number.MAX_SAFE_INTEGER,
  ...options
})

/** An input file: an http(s) URL fal can fetch, or an inline base64 image (the pages allow both). */
export const fileUrl = (description: string) => Type.String({
  pattern: '^(https?://[^\\s/?#]+[^\\s]*|data:image/[a-zA-Z0-9.+-]+;base64,[A-Za-z0-9+/]*={0,2})$',
  description: `${description} An http(s) URL or a \`data:image/...;base64,\` URI.`
})

/**
 * fal's ImageSize bounds: positive, at most 14142 per side; the pages add "multiples of 8".
 * fal defaults each side to 512, but a default inside a union is never applied by a validator,
 * so the gateway asks for both sides and keeps the default in the description.
 */
const ImageSideSchema = (description: string) => Type.Integer({
  multipleOf: 8,
  exclusiveMinimum: 0,
  maximum: 14142,
  description
})

export const ImageSizeSchema = Type.Object({
  width: ImageSideSchema('The width of the generated image. Default value: 512'),
  height: ImageSideSchema('The height of the generated image. Default value: 512')
}, { additionalProperties: false, title: 'ImageSize' })
export type ImageSize = Static<typeof ImageSizeSchema>

export const IMAGE_SIZE_PRESETS = [
  'square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9'
] as const

export const ImageSizePresetSchema = Type.Union(IMAGE_SIZE_PRESETS.map(preset => Type.Literal(preset)))

export const imageSize = (description: string) => Type.Union([ImageSizePresetSchema, ImageSizeSchema], {
  default: 'square_hd',
  description
})

export const image = (description: string) => Type.Object({
  url: Type.String({ description: 'The URL where the file can be downloaded from.' }),
  content_type: Type.Optional(Type.String({ description: 'The mime type of the file.' })),
  file_name: Type.Optional(Type.String({ description: 'The name of the file. It will be auto-generated if not provided.' })),
  file_size: Type.Optional(Type.Integer({ description: 'The size of the file in bytes.' })),
  file_data: Type.Optional(Type.String({ description: 'File data' })),
  width: Type.Optional(Type.Integer({ description: 'The width of the image in pixels.' })),
  height: Type.Optional(Type.Integer({ description: 'The height of the image in pixels.' }))
}, { title: 'Image', description })
export type Image = Static<ReturnType<typeof image>>
