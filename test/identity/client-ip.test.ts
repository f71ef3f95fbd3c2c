import t from 'tap'
import { anonymousClientId, expandIPv6, formatIPv6 } from '../../src/identity/client-ip.js'

t.test('IPv4 clients are identified by address', async t => {
  t.equal(anonymousClientId('192.0.2.7'), 'ip:192.0.2.7')
  t.equal(anonymousClientId('::ffff:192.0.2.7'), 'ip:192.0.2.7', 'IPv4-mapped (dual-stack socket)')
  t.equal(anonymousClientId('::FFFF:c000:0207'), 'ip:192.0.2.7', 'IPv4-mapped in hex')
  t.equal(anonymousClientId('0:0:0:0:0:ffff:192.0.2.7'), 'ip:192.0.2.7', 'IPv4-mapped, uncompressed')
})

t.test('IPv6 clients are grouped by /64', async t => {
  const sameSubscriber = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0DB8:0001:0002:abcd::9', '2001:db8:1:2::1%eth0']
  for (const address of sameSubscriber) t.equal(anonymousClientId(address), 'ip:2001:db8:1:2::/64', address)
  t.equal(anonymousClientId('2001:db8:1:3::1'), 'ip:2001:db8:1:3::/64', 'the next /64 is someone else')
  t.equal(anonymousClientId('2001:db8::1'), 'ip:2001:db8::/64')
  t.equal(anonymousClientId('::1'), 'ip:::/64')
  t.equal(anonymousClientId('fe80::1:2:3:4'), 'ip:fe80::/64')
  t.equal(anonymousClientId('2001:0:0:1::'), 'ip:2001:0:0:1::/64')
})

t.test('the resolved ip wins; the socket address is the fallback; else one shared bucket', async t => {
  t.equal(anonymousClientId('203.0.113.9', '10.0.0.1'), 'ip:203.0.113.9')
  t.equal(anonymousClientId(undefined, '10.0.0.1'), 'ip:10.0.0.1')
  t.equal(anonymousClientId('not an ip', '::ffff:10.0.0.1'), 'ip:10.0.0.1')
  t.equal(anonymousClientId(undefined, undefined), 'ip:unknown')
})

t.test('IPv6 expansion and RFC 5952 formatting round-trip', async t => {
  t.same(expandIPv6('1::'), [1, 0, 0, 0, 0, 0, 0, 0])
  t.same(expandIPv6('::'), [0, 0, 0, 0, 0, 0, 0, 0])
  t.same(expandIPv6('64:ff9b::192.0.2.33'), [0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x0221])
  t.equal(formatIPv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1', 'first of two equal runs')
  t.equal(formatIPv6([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]), '2001:db8:0:1:1:1:1:1', 'a single zero group stays')
  t.equal(formatIPv6([1, 0, 0, 2, 0, 0, 0, 3]), '1:0:0:2::3', 'the longest run is compressed')
})
