import { readdirSync, readFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { Value } from '@sinclair/typebox/value'
import { ConfigError } from '../config.js'
import { Catalog } from './catalog.js'
import type { CatalogEndpoint } from './catalog-endpoint.js'
import { CatalogFileSchema, type CatalogFile } from './catalog-file.js'
import { ConversionError } from './conversion-error.js'
import { endpointFromFile } from './endpoint-from-file.js'

/** A catalog file the gateway cannot serve: its message is the one start-up line, naming file and place. */
export class CatalogError extends ConfigError {
  override name = 'CatalogError'
  constructor (file: string, pointer: string, message: string) {
    super(`catalog file ${file} at #${pointer}: ${message}`)
  }
}

/** Every `.json` below `directory`, as paths relative to it with `/` separators. */
export function catalogFiles (directory: string): string[] {
  let entries
  try {
    entries = readdirSync(directory, { recursive: true, withFileTypes: true })
  } catch (error) {
    throw new ConfigError(`Invalid MODELS_DIR: cannot read ${directory} (${(error as NodeJS.ErrnoException).code ?? 'error'})`)
  }
  return entries
    .filter(entry => entry.isFile() && entry.name.endsWith('.json'))
    .map(entry => relative(directory, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort()
}

/** Reads and checks one catalog file; throws CatalogError. */
export function readCatalogFile (path: string): CatalogFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new CatalogError(path, '', `not valid JSON (${(error as Error).message})`)
  }
  const first = Value.Errors(CatalogFileSchema, parsed).First()
  if (first !== undefined) throw new CatalogError(path, first.path, first.message)
  return parsed as CatalogFile
}

/** One file as an endpoint, its path checked against its endpoint id. */
export function loadCatalogFile (path: string, relativePath: string): CatalogEndpoint {
  const file = readCatalogFile(path)
  if (`${file.endpoint_id}.json` !== relativePath) {
    throw new CatalogError(path, '/endpoint_id', `"${file.endpoint_id.slice(0, 200)}" belongs in ${file.endpoint_id.slice(0, 200)}.json, not ${relativePath}`)
  }
  try {
    return endpointFromFile(file, path)
  } catch (error) {
    if (error instanceof ConversionError) throw new CatalogError(path, error.pointer, error.message)
    throw error
  }
}

/**
 * The catalog at `MODELS_DIR`: `<owner>/<alias…>.json`, one file per endpoint. Loaded once at
 * start-up (synchronously: nothing else runs yet); any file that cannot be served stops the start
 * with one line naming it and the place.
 */
export function loadCatalog (directory: string): Catalog {
  const files = catalogFiles(directory)
  if (files.length === 0) throw new ConfigError(`Invalid MODELS_DIR: ${directory} holds no catalog files (<owner>/<alias>.json)`)
  const endpoints = files.map(file => loadCatalogFile(join(directory, file), file))
  return new Catalog(endpoints)
}
