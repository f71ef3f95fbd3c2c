/**
 * What a call to fal is about, whichever route asked for it. fal's rule (endpoint-id.ts): a submit
 * goes to the whole endpoint id (`fal-ai/flux/dev`); status, stream, result and cancel of the
 * request it creates go to the app id (`fal-ai/flux`).
 */
export interface SubmitTarget {
  operation: 'submit'
  endpointId: string
  /** Already checked against the webhook allowlist. */
  webhookUrl?: string
}

/** A request fal accepted, as status, stream, result and cancel name it. */
export interface RequestRef {
  appId: string
  requestId: string
}

export interface StatusTarget extends RequestRef {
  operation: 'status'
  logs: boolean
}

export interface StreamTarget extends RequestRef {
  operation: 'stream'
  logs: boolean
}

export interface ResultTarget extends RequestRef {
  operation: 'result'
}

export interface CancelTarget extends RequestRef {
  operation: 'cancel'
}

/** Storage upload initiation on fal's REST host: one PUT, or (`multipart`, files over 90 MiB) parts. */
export interface UploadTarget {
  operation: 'upload'
  storageType?: string
  multipart?: boolean
}

/**
 * A synchronous run on fal's run host (`fal.run`): the model's output is the answer. `stream`
 * (`fal.stream`) asks for server-sent events of partial outputs, for endpoints that stream.
 */
export interface RunTarget {
  operation: 'run'
  endpointId: string
  stream: boolean
}

export type FalTarget = SubmitTarget | StatusTarget | StreamTarget | ResultTarget | CancelTarget | UploadTarget | RunTarget

export interface FalAddress {
  host: 'queue' | 'rest' | 'run'
  method: 'GET' | 'POST' | 'PUT'
  /** Path and query on that host, as fal receives them. */
  path: string
}

/**
 * Where fal serves `target`, for the calls on the pool: the gateway spells fal's URLs here and
 * nowhere else (`@fal-ai/client` spells its own for submit and cancel, mapped onto the same hosts).
 */
export function falAddressOf (target: FalTarget): FalAddress {
  switch (target.operation) {
    case 'submit': {
      const query = target.webhookUrl === undefined ? '' : `?fal_webhook=${encodeURIComponent(target.webhookUrl)}`
      return { host: 'queue', method: 'POST', path: `/${target.endpointId}${query}` }
    }
    case 'status': return { host: 'queue', method: 'GET', path: `${requestPath(target)}/status?logs=${target.logs ? 1 : 0}` }
    case 'stream': return { host: 'queue', method: 'GET', path: `${requestPath(target)}/status/stream?logs=${target.logs ? 1 : 0}` }
    case 'result': return { host: 'queue', method: 'GET', path: requestPath(target) }
    case 'cancel': return { host: 'queue', method: 'PUT', path: `${requestPath(target)}/cancel` }
    case 'upload': {
      const query = target.storageType === undefined ? '' : `?storage_type=${encodeURIComponent(target.storageType)}`
      return { host: 'rest', method: 'POST', path: `/storage/upload/${target.multipart === true ? 'initiate-multipart' : 'initiate'}${query}` }
    }
    case 'run': return { host: 'run', method: 'POST', path: `/${target.endpointId}${target.stream ? '/stream' : ''}` }
  }
}

function requestPath ({ appId, requestId }: RequestRef): string {
  return `/${appId}/requests/${requestId}`
}
