import type { TargetVerdict } from './proxy-target.js'
import { REALTIME_NOT_SERVED } from './run-target.js'

const INITIATE = '/storage/upload/initiate'
const INITIATE_MULTIPART = '/storage/upload/initiate-multipart'

const refuse = (reason: string): TargetVerdict => ({ ok: false, reason })

/**
 * What the proxy forwards on fal's REST host: storage upload initiation, single (files up to
 * 90 MiB, one PUT) or multipart (larger: the client PUTs 10 MiB parts and completes, all on the
 * signed upload URL, never through the gateway). Either one draws from the upload budget.
 * Realtime tokens (`/tokens/`) are refused with a message that says so.
 */
export function restTarget (url: URL, method: string): TargetVerdict {
  if (url.pathname === '/tokens/' || url.pathname === '/tokens') return refuse(REALTIME_NOT_SERVED)
  const multipart = url.pathname === INITIATE_MULTIPART
  if ((url.pathname !== INITIATE && !multipart) || method !== 'POST') {
    return refuse('On fal\'s REST host only storage upload initiation (single or multipart) is forwarded')
  }
  if ([...url.searchParams.keys()].some(name => name !== 'storage_type') || url.searchParams.getAll('storage_type').length > 1) {
    return refuse('Upload initiation accepts only storage_type, once')
  }
  const storageType = url.searchParams.get('storage_type') ?? undefined
  return { ok: true, target: multipart ? { operation: 'upload', storageType, multipart } : { operation: 'upload', storageType } }
}
