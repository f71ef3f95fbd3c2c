import { isIPv4, isIPv6 } from 'node:net'

/**
 * The identity of an anonymous client: its IPv4 address, or its IPv6 /64 (one subscriber usually
 * holds a whole /64, so counting single IPv6 addresses would hand out unlimited identities).
 *
 * `ip` is the address the framework resolved (with trusted-proxy CIDRs it already honours
 * X-Forwarded-For from those proxies only); `peerAddress` is the socket's, used when `ip` is
 * missing. Requests with neither share the single bucket `ip:unknown`.
 */
export function anonymousClientId (ip: string | undefined, peerAddress?: string): string {
  const address = [ip, peerAddress].map(stripZone).find(candidate => isIPv4(candidate) || isIPv6(candidate))
  if (address === undefined) return 'ip:unknown'
  if (isIPv4(address)) return `ip:${address}`
  const hextets = expandIPv6(address)
  if (isIPv4Mapped(hextets)) return `ip:${hextetsToIPv4(hextets[6]!, hextets[7]!)}`
  return `ip:${formatIPv6([...hextets.slice(0, 4), 0, 0, 0, 0])}/64`
}

function stripZone (address: string | undefined): string {
  if (address === undefined) return ''
  const zone = address.indexOf('%')
  return zone === -1 ? address : address.slice(0, zone)
}

/** The eight 16-bit groups of a valid IPv6 address (compressed or with an IPv4 tail). */
export function expandIPv6 (address: string): number[] {
  const [head = '', tail] = address.toLowerCase().split('::')
  const groups = (part: string | undefined): number[] => {
    if (part === undefined || part === '') return []
    return part.split(':').flatMap(group => {
      if (!group.includes('.')) return [Number.parseInt(group, 16)]
      const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number)
      return [(a << 8) | b, (c << 8) | d]
    })
  }
  const left = groups(head)
  if (tail === undefined) return left
  const right = groups(tail)
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right]
}

function isIPv4Mapped (hextets: number[]): boolean {
  return hextets.slice(0, 5).every(group => group === 0) && hextets[5] === 0xffff
}

function hextetsToIPv4 (high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.')
}

/** RFC 5952 text form: lowercase, no leading zeros, the longest run of two or more zero groups as `::`. */
export function formatIPv6 (hextets: number[]): string {
  let bestStart = -1
  let bestLength = 1
  for (let i = 0; i < hextets.length;) {
    if (hextets[i] !== 0) { i++; continue }
    let end = i
    while (end < hextets.length && hextets[end] === 0) end++
    if (end - i > bestLength) { bestStart = i; bestLength = end - i }
    i = end
  }
  const text = hextets.map(group => group.toString(16))
  if (bestStart === -1) return text.join(':')
  const before = text.slice(0, bestStart).join(':')
  const after = text.slice(bestStart + bestLength).join(':')
  return `${before}::${after}`
}
