import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { Agent } from 'undici'

const LOOPBACK = new BlockList()
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4')
LOOPBACK.addAddress('::1', 'ipv6')

/** Addresses a webhook must never reach: private, link-local, shared, reserved, documentation, multicast. */
const PRIVATE = new BlockList()
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4]
] as const) PRIVATE.addSubnet(network, prefix, 'ipv4')
for (const [network, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]
] as const) PRIVATE.addSubnet(network, prefix, 'ipv6')

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i

/** Whether a webhook may be sent to this address (loopback only when the test setting allows it). */
export function isPublicAddress (address: string, allowLoopback: boolean): boolean {
  const mapped = MAPPED_V4.exec(address)?.[1]
  const ip = mapped ?? address
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4'
  if (allowLoopback && LOOPBACK.check(ip, family)) return true
  return !PRIVATE.check(ip, family)
}

export class PrivateAddressError extends Error {
  override name = 'PrivateAddressError'
  readonly code = 'EPRIVATEADDRESS'
}

/**
 * A DNS lookup that refuses a host any of whose addresses is private. It runs at connection time,
 * on the very addresses the socket uses, so a name that changes its answer between a check and the
 * connection (DNS rebinding) gains nothing.
 */
export function guardedLookup (allowLoopback: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error !== null) {
        callback(error, '', 0)
        return
      }
      if (addresses.length === 0 || addresses.some(address => !isPublicAddress(address.address, allowLoopback))) {
        callback(new PrivateAddressError(`${hostname} resolves to a private address`), '', 0)
        return
      }
      if (options.all === true) (callback as unknown as (error: null, all: LookupAddress[]) => void)(null, addresses)
      else callback(null, (addresses[0] as LookupAddress).address, (addresses[0] as LookupAddress).family)
    })
  }
}

/** The connection pool for clients' webhooks: every connection goes through the guarded lookup. */
export function webhookAgent (allowLoopback: boolean): Agent {
  return new Agent({ connect: { lookup: guardedLookup(allowLoopback) }, keepAliveTimeout: 4000 })
}

/**
 * The URL's host, when it is an IP literal the lookup never sees, must itself be public.
 * Throws PrivateAddressError otherwise.
 */
export function assertPublicLiteral (url: URL, allowLoopback: boolean): void {
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) !== 0 && !isPublicAddress(host, allowLoopback)) throw new PrivateAddressError(`${host} is a private address`)
}
