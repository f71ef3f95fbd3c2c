import type { CatalogEndpoint } from './catalog-endpoint.js'

/**
 * The endpoints this gateway serves, and so its allowlist on every route: an endpoint id not in
 * it is refused, and so is a request about an app none of its endpoints belongs to.
 */
export class Catalog {
  readonly endpoints: readonly CatalogEndpoint[]
  readonly #byId: ReadonlyMap<string, CatalogEndpoint>
  readonly #appIds: ReadonlySet<string>

  constructor (endpoints: readonly CatalogEndpoint[]) {
    this.endpoints = [...endpoints].sort((a, b) => a.id.localeCompare(b.id))
    this.#byId = new Map(this.endpoints.map(endpoint => [endpoint.id, endpoint]))
    this.#appIds = new Set(this.endpoints.map(endpoint => endpoint.appId))
  }

  find (endpointId: string): CatalogEndpoint | undefined {
    return this.#byId.get(endpointId)
  }

  /** Whether status, result and cancel calls to this app id (`owner/alias`) are allowed. */
  servesApp (appId: string): boolean {
    return this.#appIds.has(appId)
  }
}
