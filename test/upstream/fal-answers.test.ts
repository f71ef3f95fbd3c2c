import t from 'tap'
import { FAL_KEY, json } from '../helpers/gateway.js'
import { FAL_OPERATION, checkFailure, ownedRequest, perform, startFaultGateway, type Call } from '../faults/fault-client.js'
import { ILLUSION, illusionInput } from '../routes/queue/queue-client.js'

const ISOLATED = { UPSTREAM_RETRIES: '0', BREAKER_VOLUME_THRESHOLD: '100000' }
/** A credential presented with its scheme, unless it was scrubbed. */
const PRESENTED_CREDENTIAL = /\b(Key|Bearer)\s+(?!\[redacted\])[^\s"'\\,;]+/

t.test('a 200 HTML page from fal is 502 UPSTREAM_MALFORMED, on submit and polls, on both routes', async t => {
  const gateway = await startFaultGateway(t, ISOLATED)
  const calls: Call[] = ['submit', 'proxy-submit', 'status', 'proxy-status', 'result', 'proxy-result']
  for (const call of calls) {
    const requestId = await ownedRequest(gateway)
    gateway.emulator.faults.set({ mode: 'html', operations: [FAL_OPERATION[call]] })
    try {
      checkFailure(t, gateway, await perform(gateway, call, requestId), { status: 502, code: 'UPSTREAM_MALFORMED' }, `HTML on ${call}`)
    } finally {
      gateway.emulator.faults.clear()
    }
  }
  const before = gateway.emulator.callsOf('submit').length
  t.equal((await gateway.request(`/queue/${ILLUSION}`, json(illusionInput))).status, 202, 'the slots of the refused submits were given back')
  t.equal(gateway.emulator.callsOf('submit').length, before + 1)
})

t.test("fal's error bodies reach the logs capped and scrubbed, and its 4xx reach the client scrubbed", async t => {
  const gateway = await startFaultGateway(t, ISOLATED)
  // A long job option fal receives, and so echoes back: the echo is far past the logs' cap.
  const longHint = 'h'.repeat(4000)
  const submit = async (hint = 'short'): Promise<ReturnType<typeof gateway.request>> => await gateway.request(`/queue/${ILLUSION}`, {
    ...json(illusionInput),
    headers: { 'content-type': 'application/json', 'x-fal-runner-hint': hint }
  })

  gateway.emulator.faults.set({ mode: 'echo-headers', status: 500, operations: ['submit'] })
  checkFailure(t, gateway, await submit(), { status: 502, code: 'UPSTREAM_ERROR' }, 'echo on a 500')
  const echoed = gateway.emulator.callsOf('submit').at(-1)
  t.equal(echoed?.headers.authorization, `Key ${FAL_KEY}`, 'fal received the key, and so echoed it')
  const scrubbed = gateway.logs.filter(line => line.includes('headers received'))
  t.equal(scrubbed.length, 1, "fal's error body is in the logs")
  t.match(scrubbed[0], /authorization[^,]*Key \[redacted\]/, 'with the echoed key replaced')
  checkFailure(t, gateway, await submit(longHint), { status: 502, code: 'UPSTREAM_ERROR' }, 'a long echo on a 500')

  gateway.emulator.faults.set({ mode: 'echo-headers', status: 400, operations: ['submit', 'status'] })
  const rejected = await submit()
  t.equal(rejected.status, 400, 'a fal 400 is passed on')
  t.match(rejected.json(), { code: 'UPSTREAM_REJECTED', message: /headers received/ }, "with fal's detail")
  t.notMatch(rejected.text, PRESENTED_CREDENTIAL, 'and no credential in it')
  const requestId = await ownedRequest(gateway).catch(() => undefined)
  t.equal(requestId, undefined, 'the fault holds for the setup submit too')
  gateway.emulator.faults.clear()

  const logged = gateway.logs.filter(line => line.includes('headers received'))
  t.ok(logged.length >= 1, "fal's error body is in the logs")
  for (const line of logged) {
    t.notMatch(line, PRESENTED_CREDENTIAL, 'no credential presented with a scheme in the logged body')
    t.notOk(line.includes(FAL_KEY.split(':')[1] as string), 'not the secret half of the key either')
    t.ok(line.length < 2000, `the logged body is capped (${line.length} characters, fal sent over ${longHint.length})`)
  }
  // The gateway helper's teardown fails the test if the key is in any log line or answer.
})
