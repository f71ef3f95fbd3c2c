import t, { type Test } from 'tap'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { UNKNOWN_REQUEST_ID, operateVia, type Route } from '../replicas/cluster.js'

const POLL_MAX = 3
const env = { RATE_LIMIT_POLL_MAX: String(POLL_MAX), RATE_LIMIT_POLL_WINDOW: '600000' }

/** A poll of an id nobody owns, charged to the poll budget of whoever the gateway thinks is asking. */
async function pollFrom (gateway: TestGateway, forwardedFor?: string, route: Route = 'typed'): Promise<number> {
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }
  return (await operateVia(gateway, route, 'status', UNKNOWN_REQUEST_ID, { headers })).status
}

/** Spends a fresh budget as `forwardedFor`: the first POLL_MAX polls pass (404), the next is refused. */
async function spendBudget (t: Test, gateway: TestGateway, addresses: string[], what: string): Promise<void> {
  const statuses: number[] = []
  for (const address of addresses) statuses.push(await pollFrom(gateway, address, statuses.length % 2 === 0 ? 'typed' : 'proxy'))
  t.same(statuses, [...Array<number>(POLL_MAX).fill(404), ...Array<number>(addresses.length - POLL_MAX).fill(429)], what)
}

t.test('without TRUST_PROXY a spoofed X-Forwarded-For changes nothing: one budget for the peer', async t => {
  const gateway = await startGateway(t, { env })
  await spendBudget(t, gateway, ['203.0.113.1', '203.0.113.2', '198.51.100.7', '2001:db8::1', '10.0.0.1'],
    'five polls claiming five addresses share the budget of 127.0.0.1')
  t.equal(await pollFrom(gateway), 429, 'and so does a poll without the header')
})

t.test('with TRUST_PROXY=127.0.0.1/32 the address the proxy forwards is the client', async t => {
  const gateway = await startGateway(t, { env: { ...env, TRUST_PROXY: '127.0.0.1/32' } })
  await spendBudget(t, gateway, ['203.0.113.1', '203.0.113.1', '203.0.113.1', '203.0.113.1'], '203.0.113.1 spends its own budget')
  t.equal(await pollFrom(gateway, '203.0.113.2'), 404, '203.0.113.2 still has its own')
  t.equal(await pollFrom(gateway, '198.51.100.9, 203.0.113.1'), 429,
    'a client prepending a fake address to what the proxy appends is still 203.0.113.1')
  t.equal(await pollFrom(gateway), 404, 'the proxy itself (no header) is one more client')
})

t.test('IPv6 clients in one /64 share a budget; another /64 has its own', async t => {
  const gateway = await startGateway(t, { env: { ...env, TRUST_PROXY: '127.0.0.1/32' } })
  await spendBudget(t, gateway, ['2001:db8:1:2::1', '2001:db8:1:2:aaaa::5', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002::99'],
    'four addresses of 2001:db8:1:2::/64, however written, share one budget')
  t.equal(await pollFrom(gateway, '2001:db8:1:3::1'), 404, 'the next /64 is another client')
  t.equal(await pollFrom(gateway, '::ffff:203.0.113.5'), 404, 'an IPv4-mapped address counts as its IPv4 client')
  const statuses = [await pollFrom(gateway, '203.0.113.5'), await pollFrom(gateway, '203.0.113.5'), await pollFrom(gateway, '203.0.113.5')]
  t.same(statuses, [404, 404, 429], '203.0.113.5 had spent one poll already as ::ffff:203.0.113.5')
})
