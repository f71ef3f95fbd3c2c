/**
 * fal's endpoint ids: `owner/alias[/path…]` (`fal-ai/flux/dev`). fal's rule, followed everywhere:
 * a submit (and a synchronous run) goes to the whole endpoint path, while status, result and
 * cancel of the request it creates use the app id, `owner/alias`.
 */
export interface EndpointId {
  /** The whole id, as a submit uses it: `fal-ai/flux/dev`. */
  endpointId: string
  /** `owner/alias`, as status, result and cancel use it: `fal-ai/flux`. */
  appId: string
}

const SEGMENT = '[A-Za-z0-9][A-Za-z0-9._-]{0,99}'
/** Owner, alias, then up to four more path segments; no dot segments, no empty ones. */
export const ENDPOINT_ID_SOURCE = `${SEGMENT}/${SEGMENT}(?:/${SEGMENT}){0,4}`
const ENDPOINT_ID = new RegExp(`^${ENDPOINT_ID_SOURCE}$`)
const MAX_ENDPOINT_ID_LENGTH = 200

/** Splits an endpoint id; undefined when it is not one fal could serve. */
export function parseEndpointId (id: string): EndpointId | undefined {
  if (id.length > MAX_ENDPOINT_ID_LENGTH || !ENDPOINT_ID.test(id)) return undefined
  if (id.split('/').some(segment => /^\.+$/.test(segment))) return undefined
  const [owner, alias] = id.split('/')
  return { endpointId: id, appId: `${owner}/${alias}` }
}

/** The app id (`owner/alias`) of a valid endpoint id. */
export function appIdOf (endpointId: string): string {
  return endpointId.split('/').slice(0, 2).join('/')
}
