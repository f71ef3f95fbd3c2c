import t from 'tap'
import { ILLUSION, illusionInput, submit, startQueueGateway } from './queue-client.js'

// The webhook receiver is a closed loopback port: the emulator's delivery, if it ever fires, stays on this machine.
const ALLOWED_HOOK = 'https://localhost:9/fal/hook?user=7'

const webhookQuery = (url: string): string => `?fal_webhook=${encodeURIComponent(url)}`

t.test('without WEBHOOK_HOSTS every fal_webhook is refused and fal receives nothing', async t => {
  const gateway = await startQueueGateway(t)
  const answer = await submit(gateway, ILLUSION, illusionInput, webhookQuery('https://hooks.example.com/fal'))
  t.equal(answer.status, 400)
  t.match(answer.json(), { statusCode: 400, code: 'WEBHOOK_NOT_ALLOWED', message: /hooks\.example\.com/ })
  t.equal(gateway.emulator.callsOf('submit').length, 0)
})

t.test('a webhook on an allowlisted host is passed to fal; any other is refused', async t => {
  // Long phases: the job never completes, so the emulator never posts to the hook.
  const gateway = await startQueueGateway(t, { env: { WEBHOOK_HOSTS: 'localhost' }, emulator: { queueMs: 60_000 } })
  const accepted = await submit(gateway, ILLUSION, illusionInput, webhookQuery(ALLOWED_HOOK))
  t.equal(accepted.status, 202)
  const calls = gateway.emulator.callsOf('submit')
  t.equal(calls.length, 1)
  t.equal(new URL(calls[0]?.url ?? '', 'http://emulator').searchParams.get('fal_webhook'), ALLOWED_HOOK, 'fal received the webhook URL')

  const refused = [
    'https://evil.example.com/hook',
    'https://localhost.evil.example.com/hook',
    'http://localhost:9/hook',
    'https://user:pass@localhost:9/hook',
    'not a url'
  ]
  for (const hook of refused) {
    const answer = await submit(gateway, ILLUSION, illusionInput, webhookQuery(hook))
    t.equal(answer.status, 400, `refused: ${hook}`)
    t.equal(answer.json().code, 'WEBHOOK_NOT_ALLOWED')
  }
  t.equal(gateway.emulator.callsOf('submit').length, 1, 'refused webhooks never reach fal')
})
