import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormats from 'ajv-formats'
import type { TSchema } from '@sinclair/typebox'
import type { CatalogFile, FalPrice } from '../catalog/catalog-file.js'
import { endpointFromFile } from '../catalog/endpoint-from-file.js'
import { catalogFiles, readCatalogFile } from '../catalog/load-catalog.js'
import { toFieldErrors } from '../errors/validation-detail.js'
import type { FieldError, Input } from './validation.js'

/** The fal documents (and what the platform API says of them) the emulator plays by default. */
export const DEFAULT_LIBRARY = new URL('./fal-documents/', import.meta.url)

/**
 * An endpoint the emulator plays, built from fal's OpenAPI document for it (never from the
 * operator's overrides: the emulator is fal). Every other endpoint id is an unknown application.
 */
export interface EmulatedModel {
  /** The endpoint id a submit goes to. */
  id: string
  /** `owner/alias`: what status, result and cancel URLs name. */
  appId: string
  title: string
  category: string
  /** fal's document, as the platform API hands it out. */
  openapi: Record<string, unknown>
  price?: FalPrice
  /** Whether its images have an alpha channel. */
  transparent: boolean
  validate (input: Input): FieldError[]
  output: TSchema
  /** Log lines emitted, evenly spaced, while the request is IN_PROGRESS. */
  logs: readonly string[]
  /** Whether `fal.stream` works (`POST /run/{app}/stream`); fal answers 404 for apps that do not stream. */
  streams: boolean
}

interface PlatformFacts {
  display_name?: string
  category?: string
  transparent?: boolean
  /** Whether the endpoint answers `fal.stream` (`POST /run/{endpoint}/stream`). */
  streams?: boolean
  price?: FalPrice
}

const LOGS = ['Loading model weights', 'Running inference: step 1/4', 'Running inference: step 2/4', 'Running inference: step 3/4', 'Running inference: step 4/4', 'Encoding outputs', 'Uploading results']

// fal validates with FastAPI: defaults filled in, types never coerced, every error reported.
const ajv = new Ajv({ strict: false, coerceTypes: false, useDefaults: true, allErrors: true, verbose: true })
addFormats.default(ajv)

function emulatedModel (file: CatalogFile, facts: PlatformFacts, source: string): EmulatedModel {
  // fal ignores unknown fields; its own document, not an operator's changes.
  const endpoint = endpointFromFile({ endpoint_id: file.endpoint_id, openapi: file.openapi }, source, 'output')
  const validate: ValidateFunction = ajv.compile(endpoint.input)
  return {
    id: endpoint.id,
    appId: endpoint.appId,
    title: facts.display_name ?? file.title ?? endpoint.id,
    category: facts.category ?? 'other',
    openapi: file.openapi,
    price: facts.price ?? file.price,
    transparent: facts.transparent === true,
    streams: facts.streams === true,
    // A copy: the defaults filled in must not show in the call log, which records what was sent.
    validate: input => validate(structuredClone(input)) ? [] : toFieldErrors(validate.errors ?? [], 'body'),
    output: endpoint.output,
    logs: LOGS
  }
}

/**
 * The endpoints to play: fal's documents in `library` (`<owner>__<alias…>.json`, with
 * `platform.json` beside them), then the catalog files of `modelsDir`, which add endpoints or
 * replace a library one (as after `npm run models -- add --from`).
 */
export function loadEmulatedModels (library: string | URL = DEFAULT_LIBRARY, modelsDir?: string): ReadonlyMap<string, EmulatedModel> {
  const directory = typeof library === 'string' ? library : library.pathname
  const platform = JSON.parse(readFileSync(join(directory, 'platform.json'), 'utf8')) as { endpoints: Record<string, PlatformFacts> }
  const models = new Map<string, EmulatedModel>()
  for (const name of readdirSync(directory).filter(name => name.includes('__') && name.endsWith('.json')).sort()) {
    const endpointId = name.slice(0, -'.json'.length).split('__').join('/')
    const openapi = JSON.parse(readFileSync(join(directory, name), 'utf8')) as Record<string, unknown>
    models.set(endpointId, emulatedModel({ endpoint_id: endpointId, openapi }, platform.endpoints[endpointId] ?? {}, name))
  }
  for (const name of modelsDir === undefined ? [] : catalogFiles(modelsDir)) {
    const file = readCatalogFile(join(modelsDir as string, name))
    models.set(file.endpoint_id, emulatedModel(file, platform.endpoints[file.endpoint_id] ?? {}, name))
  }
  return models
}
