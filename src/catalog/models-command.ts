import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { CatalogSettings } from '../config.js'
import { parseEndpointId } from '../upstream/endpoint-id.js'
import type { CatalogFile, FalPrice } from './catalog-file.js'
import { ConversionError } from './conversion-error.js'
import { endpointFromFile } from './endpoint-from-file.js'
import { catalogFiles, readCatalogFile } from './load-catalog.js'
import { compareSummaries, summarize } from './schema-summary.js'

/** A mistake the operator can fix (unknown id, no document, a file that will not convert): one line, exit 1. */
export class CommandError extends Error {
  override name = 'CommandError'
}

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

interface Fetched { endpointId: string, title?: string, openapi: Json, price?: FalPrice, source: string }

const USAGE = 'usage: npm run models -- add <endpoint id…> [--from FILE] | list | remove <endpoint id…> | refresh [<endpoint id…>] | show <endpoint id>'

export class ModelsCommand {
  readonly #settings: CatalogSettings
  readonly #print: (line: string) => void
  readonly #today: () => string

  constructor (settings: CatalogSettings, print: (line: string) => void, today = () => new Date().toISOString().slice(0, 10)) {
    this.#settings = settings
    this.#print = print
    this.#today = today
  }

  async run (argv: readonly string[]): Promise<void> {
    const fromAt = argv.indexOf('--from')
    const from = fromAt >= 0 ? argv[fromAt + 1] : undefined
    if (fromAt >= 0 && from === undefined) throw new CommandError('--from needs a file')
    const [command, ...ids] = argv.filter((_arg, index) => fromAt < 0 || (index !== fromAt && index !== fromAt + 1))
    switch (command) {
      case 'add': return await this.add(ids, from)
      case 'refresh': return await this.refresh(ids, from)
      case 'remove': return this.remove(ids)
      case 'list': return this.list()
      case 'show': return this.show(ids)
      default: throw new CommandError(USAGE)
    }
  }

  #path (endpointId: string): string {
    if (parseEndpointId(endpointId) === undefined) throw new CommandError(`"${endpointId}" is not a fal endpoint id (owner/alias[/path])`)
    return join(this.#settings.modelsDir, `${endpointId}.json`)
  }

  /** Converts before writing: a file that would stop the gateway's start is never written. */
  #write (file: CatalogFile): void {
    const path = this.#path(file.endpoint_id)
    try {
      endpointFromFile(file, path)
    } catch (error) {
      if (error instanceof ConversionError) throw new CommandError(`${file.endpoint_id}: fal's document cannot be served, at #${error.pointer}: ${error.message}`)
      throw error
    }
    mkdirSync(dirname(path), { recursive: true })
    writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`)
  }

  async add (ids: string[], from?: string): Promise<void> {
    const fetched = from === undefined ? await this.#fetch(ids) : this.#readSaved(from, ids)
    for (const model of fetched) {
      const path = this.#path(model.endpointId)
      if (existsSync(path)) throw new CommandError(`${model.endpointId} is already in the catalog (${path}): use refresh`)
      this.#write(fileOf(model))
      this.#print(`added ${model.endpointId} -> ${path}${model.price === undefined ? ' (no price: set overrides.price or add with FAL_KEY)' : ''}`)
    }
  }

  async refresh (ids: string[], from?: string): Promise<void> {
    const wanted = ids.length > 0 ? ids : catalogFiles(this.#settings.modelsDir).map(name => name.slice(0, -'.json'.length))
    if (wanted.length === 0) throw new CommandError('the catalog is empty: nothing to refresh')
    const fetched = from === undefined ? await this.#fetch(wanted) : this.#readSaved(from, wanted)
    for (const model of fetched) {
      const path = this.#path(model.endpointId)
      if (!existsSync(path)) throw new CommandError(`${model.endpointId} is not in the catalog: use add`)
      const old = readCatalogFile(path)
      // fal's part is replaced; the operator's overrides stay.
      const updated: CatalogFile = { ...fileOf(model), ...(old.overrides === undefined ? {} : { overrides: old.overrides }) }
      const changes = compareSummaries(summarize(endpointFromFile(old, path).input), summarize(endpointFromFile(updated, path).input))
      if (old.price?.unit_price !== updated.price?.unit_price || old.price?.unit !== updated.price?.unit) {
        changes.push(`~ price: ${priceText(old.price)} -> ${priceText(updated.price)}`)
      }
      this.#write(updated)
      this.#print(changes.length === 0 ? `${model.endpointId}: unchanged` : [`${model.endpointId}: ${changes.length} change(s), review with git diff ${path}`, ...changes.map(change => `  ${change}`)].join('\n'))
    }
  }

  remove (ids: string[]): void {
    if (ids.length === 0) throw new CommandError(USAGE)
    for (const id of ids) {
      const path = this.#path(id)
      if (!existsSync(path)) throw new CommandError(`${id} is not in the catalog`)
      rmSync(path)
      this.#print(`removed ${id}`)
    }
  }

  list (): void {
    for (const name of catalogFiles(this.#settings.modelsDir)) {
      const file = readCatalogFile(join(this.#settings.modelsDir, name))
      const price = file.overrides?.price ?? file.price
      this.#print([file.endpoint_id, file.overrides?.title ?? file.title ?? '', priceText(price)].join('\t'))
    }
  }

  show (ids: string[]): void {
    const [id] = ids
    if (id === undefined || ids.length > 1) throw new CommandError('usage: npm run models -- show <endpoint id>')
    const path = this.#path(id)
    if (!existsSync(path)) throw new CommandError(`${id} is not in the catalog`)
    const endpoint = endpointFromFile(readCatalogFile(path), path)
    this.#print(`${endpoint.id} (${endpoint.title}) · app ${endpoint.appId} · ${endpoint.price === undefined ? 'no price' : `${endpoint.price.unitPriceMicros / 1e6} ${endpoint.price.currency} per ${endpoint.price.unit}`}`)
    for (const [field, summary] of summarize(endpoint.input)) {
      this.#print([`  ${field}${summary.required ? ' *' : ''}`, summary.type, summary.bounds, summary.default === undefined ? '' : `default ${summary.default}`].filter(part => part !== '').join('  '))
    }
  }

  /** Documents (several ids per call) and prices from fal's platform API; the key when there is one. */
  async #fetch (ids: string[]): Promise<Fetched[]> {
    if (ids.length === 0) throw new CommandError(USAGE)
    for (const id of ids) this.#path(id)
    const headers: Record<string, string> = this.#settings.falKey === undefined ? {} : { authorization: `Key ${this.#settings.falKey}` }
    const query = ids.map(id => `endpoint_id=${encodeURIComponent(id)}`).join('&')
    const listUrl = `${this.#settings.falApiUrl}/v1/models?${query}&expand=openapi-3.0`
    const listing = await getJson(listUrl, headers) as { models?: Array<{ endpoint_id?: string, metadata?: { display_name?: string }, openapi?: Json }> }
    const prices = new Map<string, FalPrice>()
    if (this.#settings.falKey !== undefined) {
      const answer = await getJson(`${this.#settings.falApiUrl}/v1/models/pricing?${query}`, headers) as { prices?: Array<FalPrice & { endpoint_id: string }> }
      for (const { endpoint_id: id, ...price } of answer.prices ?? []) prices.set(id, price)
    }
    return ids.map(id => {
      const entry = listing.models?.find(model => model.endpoint_id === id)
      if (entry === undefined || !isObject(entry.openapi)) throw new CommandError(`${id}: fal's platform API has no such endpoint`)
      if (isObject(entry.openapi.error)) throw new CommandError(`${id}: fal published no document for it (${String(entry.openapi.error.message ?? entry.openapi.error.code)})`)
      const price = prices.get(id)
      return {
        endpointId: id,
        title: entry.metadata?.display_name,
        openapi: entry.openapi,
        ...(price === undefined ? {} : { price }),
        source: `GET ${this.#settings.falApiUrl}/v1/models?endpoint_id=${id}&expand=openapi-3.0 on ${this.#today()}`
      }
    })
  }

  /** A saved document: fal's OpenAPI document itself, one `/v1/models` entry, or a whole answer. */
  #readSaved (from: string, ids: string[]): Fetched[] {
    let saved: unknown
    try {
      saved = JSON.parse(readFileSync(from, 'utf8'))
    } catch (error) {
      throw new CommandError(`--from ${from}: ${(error as Error).message}`)
    }
    const entries = isObject(saved) && Array.isArray(saved.models) ? saved.models as unknown[] : [saved]
    const found = entries.filter(isObject).map(entry => {
      const openapi = isObject(entry.openapi) ? entry.openapi : entry
      const metadata = isObject(openapi.info) && isObject(openapi.info['x-fal-metadata']) ? openapi.info['x-fal-metadata'] : {}
      const endpointId = typeof entry.endpoint_id === 'string' ? entry.endpoint_id : typeof metadata.endpointId === 'string' ? metadata.endpointId : ids[0]
      const title = isObject(entry.metadata) && typeof entry.metadata.display_name === 'string' ? entry.metadata.display_name : undefined
      return { endpointId: endpointId ?? '', title, openapi, source: `${from} on ${this.#today()}` }
    })
    const wanted = ids.length > 0 ? ids : found.map(model => model.endpointId)
    return wanted.map(id => {
      const model = found.find(candidate => candidate.endpointId === id) ?? (found.length === 1 && ids.length === 1 ? { ...found[0] as Fetched, endpointId: id } : undefined)
      if (model === undefined) throw new CommandError(`--from ${from} holds no document for ${id}`)
      return model
    })
  }
}

function fileOf (model: Fetched): CatalogFile {
  return {
    endpoint_id: model.endpointId,
    ...(model.title === undefined ? {} : { title: model.title }),
    source: model.source,
    ...(model.price === undefined ? {} : { price: model.price }),
    openapi: model.openapi
  }
}

function priceText (price: FalPrice | undefined): string {
  return price === undefined ? 'no price' : `${String(price.unit_price)} ${price.currency ?? 'USD'}/${price.unit}`
}

async function getJson (url: string, headers: Record<string, string>): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) })
  } catch (error) {
    throw new CommandError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`)
  }
  const text = await response.text()
  if (!response.ok) throw new CommandError(`${new URL(url).pathname} answered ${response.status}: ${text.slice(0, 200)}`)
  return JSON.parse(text)
}
