import t from 'tap'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import type { TSchema } from '@sinclair/typebox'
import { endpointFromFile } from '../../src/catalog/endpoint-from-file.js'
import { ConversionError } from '../../src/catalog/conversion-error.js'
import { toFieldErrors } from '../../src/errors/validation-detail.js'
import { FAL_DOCUMENTS, catalogFileOf, falDocument, syntheticDocument } from '../helpers/fal-documents.js'

// The gateway's validator, strict as Fastify's: a keyword Ajv does not know would throw here.
function validatorOf (schema: TSchema) {
  const ajv = new Ajv({ removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: true, verbose: true })
  addFormats.default(ajv)
  const validate = ajv.compile(schema)
  return (input: unknown) => validate(input) ? [] : toFieldErrors(validate.errors ?? [], 'body').map(error => error.loc)
}

function endpointOf (input: unknown, schemas: Record<string, unknown> = {}) {
  return endpointFromFile({ endpoint_id: 'acme/tool', openapi: syntheticDocument('acme/tool', input, schemas) }, 'acme/tool.json')
}

function refusal (input: unknown, schemas: Record<string, unknown> = {}): ConversionError {
  try {
    endpointOf(input, schemas)
  } catch (error) {
    if (error instanceof ConversionError) return error
    throw error
  }
  throw new Error('the document was accepted')
}

t.test('every real fal document converts, input and output, into schemas the gateway validator compiles', async t => {
  t.ok(FAL_DOCUMENTS.length >= 7, 'the fixtures are there')
  for (const document of FAL_DOCUMENTS) {
    const endpoint = endpointFromFile(catalogFileOf(document), document.fixture)
    t.equal(endpoint.id, document.endpointId, `${document.fixture}: endpoint id`)
    t.equal(endpoint.appId, document.endpointId.split('/').slice(0, 2).join('/'), `${document.fixture}: app id`)
    t.equal(endpoint.input.additionalProperties, false, `${document.fixture}: unknown top-level fields are refused`)
    t.same(validatorOf(endpoint.input)({ no_such_field: 1 }).filter(loc => loc.includes('no_such_field')), [['body', 'no_such_field']], `${document.fixture}: an unknown field is named`)
    validatorOf(endpoint.output)
  }
})

t.test('the seed documents carry the bounds fal enforces', async t => {
  const illusion = validatorOf(endpointFromFile(catalogFileOf(falDocument('fal-ai/illusion-diffusion')), 'x').input)
  const base = { image_url: 'https://example.com/p.png', prompt: 'p' }
  t.same(illusion(base), [])
  t.same(illusion({ ...base, guidance_scale: 0 }), [['body', 'guidance_scale']], 'guidance_scale > 0')
  t.same(illusion({ ...base, guidance_scale: 50.5 }), [['body', 'guidance_scale']], 'guidance_scale <= 50')
  t.same(illusion({ ...base, guidance_scale: 50 }), [])
  t.same(illusion({ ...base, num_inference_steps: 81 }), [['body', 'num_inference_steps']], 'steps <= 80')
  t.same(illusion({ ...base, control_guidance_start: 1.5 }), [['body', 'control_guidance_start']])
  t.same(illusion({ ...base, control_guidance_end: -0.1 }), [['body', 'control_guidance_end']])
  t.same(illusion({ ...base, image_size: { width: 0, height: 512 } }), [['body', 'image_size', 'width']], 'a side is > 0')
  t.same(illusion({ ...base, image_size: 'huge' }), [['body', 'image_size']])
  t.same(illusion({ prompt: 'p' }), [['body', 'image_url']], 'required')

  const layer = validatorOf(endpointFromFile(catalogFileOf(falDocument('fal-ai/layer-diffusion')), 'x').input)
  t.same(layer({}), [], 'no required array: every field optional')
  t.same(layer({ guidance_scale: 21 }), [['body', 'guidance_scale']], 'guidance_scale <= 20')
  t.same(layer({ num_inference_steps: 9 }), [['body', 'num_inference_steps']], 'steps >= 10')
  t.same(layer({ num_inference_steps: 41 }), [['body', 'num_inference_steps']], 'steps <= 40')
})

t.test('nested arrays of objects name the field path the way fal does', async t => {
  const general = validatorOf(endpointFromFile(catalogFileOf(falDocument('fal-ai/flux-general')), 'x').input)
  t.same(general({ prompt: 'p', loras: [{ path: 'https://x/l.safetensors', scale: 1 }, { path: 'https://x/m', scale: 5 }] }), [['body', 'loras', 1, 'scale']])
  t.same(general({ prompt: 'p', loras: [{ scale: 1 }] }), [['body', 'loras', 0, 'path']])
  t.same(general({ prompt: 'p', loras: [{ path: 'x', sclae: 1 }] }), [['body', 'loras', 0, 'sclae']], 'unknown nested fields refused')
})

t.test('whisper: nullable fields, broken tuple items in the output', async t => {
  const endpoint = endpointFromFile(catalogFileOf(falDocument('fal-ai/whisper')), 'x')
  const whisper = validatorOf(endpoint.input)
  t.same(whisper({ audio_url: 'https://x/a.mp3', language: null, num_speakers: null }), [], 'nullable: true admits null')
  t.same(whisper({ audio_url: 'https://x/a.mp3', num_speakers: 0 }), [['body', 'num_speakers']])
  t.same(whisper({ audio_url: 'https://x/a.mp3', language: 'xx' }), [['body', 'language']])
  const output = validatorOf(endpoint.output)
  t.same(output({ text: 't', inferred_languages: [], diarization_segments: [], chunks: [{ timestamp: [0, 1.5], text: 't' }] }), [])
  t.same(output({ text: 't', inferred_languages: [], diarization_segments: [], chunks: [{ timestamp: [0, 'x'], text: 't' }] }), [['body', 'chunks', 0, 'timestamp', 1]], '`items: {"0":…,"1":…}` is a tuple')
})

t.test('open enums take any string', async t => {
  const ultra = validatorOf(endpointFromFile(catalogFileOf(falDocument('fal-ai/flux-pro/v1.1-ultra')), 'x').input)
  t.same(ultra({ prompt: 'p', aspect_ratio: '21:9' }), [])
  t.same(ultra({ prompt: 'p', aspect_ratio: '7:3' }), [], 'a value outside the enum is a string, still valid')
  t.same(ultra({ prompt: 'p', aspect_ratio: 7 }), [['body', 'aspect_ratio']])
})

t.test('what fal documents use, construct by construct', async t => {
  const Size = { type: 'object', properties: { w: { type: 'integer', exclusiveMinimum: 0 } }, required: ['w'] }
  const endpoint = endpointOf({
    type: 'object',
    'x-fal-order-properties': ['z_first', 'bare'],
    properties: {
      bare: { $ref: '#/components/schemas/Size' },
      with_siblings: { $ref: '#/components/schemas/Size', title: 'Sized', description: '\n      Indented.\n      Twice.\n  ' },
      wrapped: { allOf: [{ $ref: '#/components/schemas/Size' }], title: 'Wrapped', default: { w: 4 } },
      maybe: { anyOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }] },
      nullable: { type: 'number', nullable: true, maximum: 1 },
      exclusive: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 },
      exclusive30: { type: 'number', minimum: 0, exclusiveMinimum: true },
      step: { type: 'integer', multipleOf: 8 },
      text: { type: 'string', minLength: 2, maxLength: 4 },
      list: { type: 'array', items: { type: 'integer' }, minItems: 1, maxItems: 2, uniqueItems: true },
      pair: { type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }] },
      fixed: { const: 'v1' },
      numeric_strings: { enum: ['1', '2'], type: 'string' },
      open: { anyOf: [{ enum: ['a', 'b'], type: 'string' }, { type: 'string' }] },
      scores: { type: 'object', additionalProperties: { type: 'number' } },
      blob: { type: 'string', format: 'binary' },
      id: { type: 'string', format: 'uuid4' },
      bad_default: { type: 'string', default: null },
      bad_bound_default: { type: 'integer', minimum: 1, default: 0 },
      good_default: { type: 'integer', minimum: 1, default: 3 },
      z_first: { type: 'boolean', deprecated: true, examples: [true], 'x-fal': { timeout: 3 }, limit_description: 'ui hint', step: 1 }
    }
  }, { Size })
  const valid = validatorOf(endpoint.input)
  const properties = endpoint.input.properties as Record<string, Record<string, unknown>>
  t.same(Object.keys(properties).slice(0, 2), ['z_first', 'bare'], 'x-fal-order-properties orders the fields')
  t.same(endpoint.input.required, undefined, 'no required array: nothing required')
  t.equal(properties.with_siblings?.title, 'Sized', 'a $ref\'s sibling title wins')
  t.equal(properties.with_siblings?.description, 'Indented.\nTwice.', 'descriptions lose their docstring indentation')
  t.same(properties.wrapped?.default, { w: 4 }, 'one-element allOf keeps its default')
  t.notOk('default' in (properties.bad_default ?? {}), 'a default of the wrong type is dropped')
  t.notOk('default' in (properties.bad_bound_default ?? {}), 'a default outside the bounds is dropped')
  t.equal(properties.good_default?.default, 3)

  const refused: Array<[string, unknown]> = [
    ['bare', {}], ['bare', { w: 0 }], ['with_siblings', { w: 1.5 }], ['wrapped', { w: 1, extra: 1 }],
    ['maybe', 'long'], ['nullable', 2], ['exclusive', 0], ['exclusive', 1], ['exclusive30', 0], ['step', 12],
    ['text', 'a'], ['text', 'abcde'], ['list', []], ['list', [1, 2, 3]], ['list', [1, 1]], ['pair', [1, 1]],
    ['fixed', 'v2'], ['numeric_strings', 1], ['numeric_strings', '3'], ['open', 3], ['scores', { a: 'x' }], ['id', 'not-a-uuid']
  ]
  for (const [field, value] of refused) {
    const locs = valid({ [field]: value })
    t.ok(locs.length > 0 && locs.every(loc => loc[1] === field), `${field} = ${JSON.stringify(value)} is refused, naming ${field}`)
  }
  const accepted: Array<[string, unknown]> = [
    ['bare', { w: 1 }], ['maybe', null], ['maybe', 'abc'], ['nullable', null], ['exclusive', 0.5], ['exclusive30', 0.1], ['step', 16],
    ['list', [1, 2]], ['pair', ['a', 1, 'extra']], ['fixed', 'v1'], ['numeric_strings', '2'], ['open', 'c'], ['scores', { a: 1 }],
    ['blob', 'anything'], ['id', '2b5f2d6e-9c1a-4f7e-8b3d-0a1c2e3f4a5b'], ['z_first', false]
  ]
  for (const [field, value] of accepted) t.same(valid({ [field]: value }), [], `${field} = ${JSON.stringify(value)} is accepted`)
  t.same(valid({ nope: 1 }), [['body', 'nope']], 'unknown top-level fields are refused')
  t.same(valid({ step: 2 ** 60 }), [['body', 'step']], 'integers beyond what fal takes are refused first')
})

t.test('documents the converter cannot carry over are refused with the place', async t => {
  const missing = refusal({ type: 'object', properties: { size: { $ref: '#/components/schemas/Nowhere' } } })
  t.equal(missing.pointer, '/openapi/components/schemas/Input/properties/size/$ref')
  t.match(missing.message, /points at no schema/)
  const cyclic = refusal({ $ref: '#/components/schemas/Loop' }, { Loop: { type: 'object', properties: { next: { $ref: '#/components/schemas/Loop' } } } })
  t.equal(cyclic.pointer, '/openapi/components/schemas/Loop/properties/next/$ref')
  t.equal(refusal({ type: 'object', properties: { a: { type: 'strnig' } } }).pointer, '/openapi/components/schemas/Input/properties/a/type')
  t.equal(refusal({ type: 'object', properties: { a: { not: { type: 'string' } } } }).pointer, '/openapi/components/schemas/Input/properties/a/not')
  t.equal(refusal({ type: 'object', properties: { a: { type: 'string', pattern: '(?P<x>a)' } } }).pointer, '/openapi/components/schemas/Input/properties/a/pattern')
  t.equal(refusal({ type: 'string' }).pointer, '/openapi/paths/~1acme~1tool/post/requestBody/content/application~1json/schema')
  t.match(refusal({ type: 'string' }).message, /must be an object/)
})

t.test('overrides change fal\'s document before conversion, and a stale one is refused', async t => {
  const document = falDocument('fal-ai/layer-diffusion')
  const endpoint = endpointFromFile(catalogFileOf(document, {
    overrides: {
      schema: [
        { pointer: '/components/schemas/LayerDiffusionInput/properties/guidance_scale', merge: { maximum: 10 }, reason: 'tighter' },
        { pointer: '/components/schemas/LayerDiffusionInput/properties/seed', remove: true }
      ],
      price: { unit_price: '0.0024075', unit: 'images' },
      title: 'Layers'
    }
  }), 'x')
  const valid = validatorOf(endpoint.input)
  t.same(valid({ guidance_scale: 11 }), [['body', 'guidance_scale']])
  t.same(valid({ seed: 1 }), [['body', 'seed']], 'a removed field is refused like any unknown one')
  t.same(endpoint.price, { unitPriceMicros: 2408, unit: 'images', currency: 'USD' }, 'a string price in micro-units, rounded up')
  t.equal(endpoint.title, 'Layers')
  t.throws(() => endpointFromFile(catalogFileOf(document, { overrides: { schema: [{ pointer: '/components/schemas/Gone', remove: true }] } }), 'x'),
    new ConversionError('/overrides/schema/0/pointer', ''), 'an override that finds nothing is refused')
})
