import { join } from 'node:path'
import t from 'tap'
import { startProcess, shellEnvironment } from '../helpers/child-process.js'
import { startGateway } from '../helpers/gateway.js'
import { projectRoot } from '../helpers/project-copy.js'
import { KEYS, writePolicyFile } from '../plugins/policy-fixture.js'

const SNIPPET = join('examples', 'node-ssr', 'generate.ts')
// A fal key in the app server's environment, as many have: the snippet must never send it.
const APP_FAL_KEY = 'app-side-key-id:app-side-key-secret-0000'

t.setTimeout(300_000)

t.test('the Node/SSR snippet runs a job through the gateway as its client key, with no fal key', async t => {
  const gateway = await startGateway(t, { env: { POLICY_FILE: writePolicyFile(t, { anonymousEnabled: false }) } })
  const run = (clientKey: string): ReturnType<typeof startProcess> => startProcess(t, process.execPath, [SNIPPET, 'a lighthouse at dusk'], {
    cwd: projectRoot,
    env: shellEnvironment({
      GATEWAY_URL: gateway.url,
      GATEWAY_CLIENT_KEY: clientKey,
      FAL_KEY: APP_FAL_KEY,
      PATTERN_URL: 'https://example.com/pattern.png'
    })
  })

  const snippet = run(KEYS.alice)
  t.equal(await snippet.exited, 0, 'the snippet succeeds', { stderr: snippet.stderr() })
  const printed = JSON.parse(snippet.stdout()) as { requestId: string, image: string }
  t.match(printed, { requestId: /^[0-9a-f-]{36}$/, image: /\/files\/.+\.png$/ }, 'it prints the request id and the image URL')
  t.match(snippet.stderr(), /COMPLETED/, 'it followed the job to completion')

  const [submit] = gateway.emulator.callsOf('submit')
  t.equal(submit?.headers.authorization, `Key ${gateway.config.falKey}`, 'fal saw the gateway\'s key, not the app\'s')
  t.match(submit?.body, { prompt: 'a lighthouse at dusk' })
  t.ok(gateway.logs.some(line => line.includes('"clientId":"key:alice"')), 'the gateway knew the caller by its client key')
  t.notOk(gateway.logs.some(line => line.includes(APP_FAL_KEY)), 'the app\'s fal key never reached the gateway')

  const refused = run('gw_not-a-key-0123456789abcdefghijkl')
  t.not(await refused.exited, 0, 'an unknown client key fails')
  t.match(refused.stderr(), /Invalid credentials: unknown key/, 'with the gateway\'s reason')
  t.equal(gateway.emulator.callsOf('submit').length, 1, 'and nothing reached fal')
})
