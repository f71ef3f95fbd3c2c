import t from 'tap'
import { Webhook } from 'standardwebhooks'
import { isPublicAddress, webhookAgent } from '../../../src/webhooks/client/safe-target.js'
import { sendWebhook } from '../../../src/webhooks/client/send-webhook.js'
import type { ClientDelivery } from '../../../src/webhooks/client/delivery-queue.js'

t.test('private, loopback, link-local and reserved addresses are refused; public ones pass', async t => {
  for (const address of ['10.1.2.3', '172.16.0.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:127.0.0.1']) {
    t.notOk(isPublicAddress(address, false), `${address} refused`)
  }
  for (const address of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
    t.ok(isPublicAddress(address, false), `${address} allowed`)
  }
  t.ok(isPublicAddress('127.0.0.1', true), 'loopback only with the test setting')
  t.notOk(isPublicAddress('10.0.0.1', true), 'and never a private range')
})

t.test('a webhook to a name that resolves to a private address is refused at connection time', async t => {
  const agent = webhookAgent(false)
  t.teardown(() => agent.close())
  const delivery: ClientDelivery = { id: 'r1', requestId: 'r1', clientId: 'c', url: '', body: '{}', attempts: 0, createdAt: 0 }
  const options = {
    agent,
    signer: new Webhook(`whsec_${Buffer.from('x'.repeat(32)).toString('base64')}`),
    timeoutMs: 2000,
    allowLoopback: false,
    checkUrl: (url: string) => url
  }
  // `localhost` resolves to loopback: refused by the guarded lookup, not by the URL check.
  t.match(await sendWebhook({ ...delivery, url: 'https://localhost:9/hook' }, options), { ok: false, error: 'EPRIVATEADDRESS', permanent: false })
  // An IP literal never reaches a lookup: refused before any connection, for good.
  t.match(await sendWebhook({ ...delivery, url: 'https://169.254.169.254/latest' }, options), { ok: false, permanent: true })
  t.match(await sendWebhook({ ...delivery, url: 'https://[::1]:9/hook' }, options), { ok: false, permanent: true })
})
