import { Kind, type TObject } from '@sinclair/typebox'
import { parseEndpointId } from '../upstream/endpoint-id.js'
import type { CatalogEndpoint } from './catalog-endpoint.js'
import type { CatalogFile } from './catalog-file.js'
import { ConversionError, pointerTo } from './conversion-error.js'
import { OpenApiConverter, type Side } from './openapi-to-typebox.js'
import { endpointPriceOf } from './price.js'
import { applySchemaOverrides } from './schema-overrides.js'

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The pointer, inside an OpenAPI document, of the JSON body schema of `method` on `path`. */
function schemaPointer (document: Json, path: string, method: 'post' | 'get', at: string): string {
  const paths = isObject(document.paths) ? document.paths : {}
  const here = pointerTo('/paths', path)
  const operation = (paths[path] as Json | undefined)?.[method]
  if (!isObject(operation)) throw new ConversionError(at + here, `the document has no ${method.toUpperCase()} ${path}`)
  const [holder, holderPointer] = method === 'post'
    ? [operation.requestBody as Json | undefined, pointerTo(pointerTo(here, method), 'requestBody')]
    : [(operation.responses as Json | undefined)?.['200'], pointerTo(pointerTo(pointerTo(here, method), 'responses'), '200')]
  const schema = ((holder as Json | undefined)?.content as Json | undefined)?.['application/json']
  if (!isObject(schema) || !('schema' in schema)) throw new ConversionError(at + holderPointer, 'no application/json schema here')
  return pointerTo(pointerTo(pointerTo(holderPointer, 'content'), 'application/json'), 'schema')
}

/**
 * One catalog file as the endpoint the gateway serves: fal's document with the operator's
 * overrides, its input (what submits are validated against) and output converted to TypeBox.
 * Throws ConversionError naming the place in the file. `inputSide` `output` leaves unknown input
 * fields to be ignored, as fal itself does (the emulator's reading).
 */
export function endpointFromFile (file: CatalogFile, fileName: string, inputSide: Side = 'input'): CatalogEndpoint {
  const id = parseEndpointId(file.endpoint_id)
  if (id === undefined) throw new ConversionError('/endpoint_id', `"${file.endpoint_id.slice(0, 200)}" is not a fal endpoint id (owner/alias[/path])`)
  const failure = (file.openapi as { error?: { message?: unknown } }).error
  if (failure !== undefined) throw new ConversionError('/openapi/error', `fal published no document for this endpoint: ${String(failure.message ?? 'expansion failed')}`)
  const document = applySchemaOverrides(file.openapi, file.overrides?.schema ?? [], '/overrides/schema')
  const converter = new OpenApiConverter(document, '/openapi')

  const inputAt = schemaPointer(document, `/${id.endpointId}`, 'post', '/openapi')
  const outputAt = schemaPointer(document, `/${id.endpointId}/requests/{request_id}`, 'get', '/openapi')
  const input = converter.convertAt(inputAt, inputSide)
  if (input[Kind] !== 'Object') throw new ConversionError(`/openapi${inputAt}`, 'the input must be an object')
  const output = converter.convertAt(outputAt, 'output')

  const price = file.overrides?.price ?? file.price
  const metadataTitle = ((file.openapi.info as Json | undefined)?.['x-fal-metadata'] as Json | undefined)?.endpointId
  return {
    id: id.endpointId,
    appId: id.appId,
    title: file.overrides?.title ?? file.title ?? (typeof metadataTitle === 'string' ? metadataTitle : id.endpointId),
    input: input as TObject,
    output,
    ...(price === undefined ? {} : { price: endpointPriceOf(price) }),
    ...(file.overrides?.pricing === undefined ? {} : { pricing: file.overrides.pricing }),
    file: fileName
  }
}
