import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { createEmulator } from '../../src/emulator/emulator.js'
import { startProcess, shellEnvironment } from '../helpers/child-process.js'
import { freePort } from '../helpers/free-port.js'
import { FAL_KEY, keyLeaks } from '../helpers/gateway.js'
import { projectCopy, projectRoot } from '../helpers/project-copy.js'
import { ILLUSION, illusionInput } from '../routes/queue/queue-client.js'

const FROM_FILE = 'https://from-file.example'
const FROM_ENV = 'https://from-env.example'

const allowedOrigin = async (url: string, origin: string): Promise<string | null> =>
  (await fetch(`${url}/healthz`, { headers: { origin } })).headers.get('access-control-allow-origin')

const submit = async (url: string): Promise<number> =>
  (await fetch(`${url}/queue/${ILLUSION}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(illusionInput) })).status

// Each case starts node processes that compile TypeScript: slow on a busy machine.
t.setTimeout(300_000)

t.test('npm run dev reads .env, and the environment wins over it', async t => {
  const project = await projectCopy(t)
  const port = await freePort()
  await writeFile(join(project, '.env'), [
    '# a developer\'s settings',
    `PORT=${port}`,
    'RATE_LIMIT_SUBMIT_MAX=3',
    'RATE_LIMIT_POLL_MAX=55',
    `CORS_ORIGINS=${FROM_FILE}`
  ].join('\n'))
  const dev = startProcess(t, 'npm', ['run', 'dev'], {
    cwd: project,
    env: shellEnvironment({ RATE_LIMIT_POLL_MAX: '77', CORS_ORIGINS: FROM_ENV })
  })
  const [banner] = await dev.waitFor(/fal-gateway in development mode[\s\S]*?\n {2}Logs[^\n]*\n/)
  const url = `http://127.0.0.1:${port}`
  t.match(banner, `Gateway     ${url}`, 'PORT from .env')
  t.match(banner, /3 submits per 60 s, 77 polls per 60 s/, 'the submit limit from .env, the poll limit from the environment')
  t.match(banner, `${join(project, '.env')} (2 settings`, 'the banner names the file read and counts what it set (two of its four the environment set)')
  t.equal(await allowedOrigin(url, FROM_ENV), FROM_ENV, 'CORS_ORIGINS from the environment')
  t.equal(await allowedOrigin(url, FROM_FILE), null, 'not the one in .env')
  t.same([await submit(url), await submit(url), await submit(url), await submit(url)], [202, 202, 202, 429], 'the .env limit is the one enforced')
  await dev.stop()
})

t.test('the production entry reads .env from its working directory too', async t => {
  const emulator = createEmulator({ falKey: FAL_KEY })
  const emulatorUrl = await emulator.listen()
  t.teardown(() => emulator.close())
  const dir = await mkdtemp(join(tmpdir(), 'fal-gateway-env-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, '.env'), [
    `FAL_KEY=${FAL_KEY}`,
    `FAL_QUEUE_URL=${emulatorUrl}`,
    `FAL_REST_URL=${emulatorUrl}`,
    'HOST=127.0.0.1',
    'RATE_LIMIT_SUBMIT_MAX=1',
    `CORS_ORIGINS=${FROM_FILE}`
  ].join('\n'))

  // No FAL_KEY in the environment: the gateway would refuse to start without the file's.
  const server = startProcess(t, process.execPath, ['--import', import.meta.resolve('tsx'), join(projectRoot, 'src/server.ts')], {
    cwd: dir,
    env: shellEnvironment({ NODE_ENV: 'production', PORT: '0', CORS_ORIGINS: FROM_ENV, MAX_EVENT_LOOP_DELAY_MS: '0' })
  })
  const [, url] = await server.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/) as unknown as [string, string]
  t.equal(await allowedOrigin(url, FROM_ENV), FROM_ENV, 'the environment wins')
  t.equal(await allowedOrigin(url, FROM_FILE), null)
  t.same([await submit(url), await submit(url)], [202, 429], 'RATE_LIMIT_SUBMIT_MAX from .env')
  await server.waitFor(/settings read from \.env/)
  const line = JSON.parse(server.stdout().split('\n').find(text => text.includes('settings read from .env')) as string) as { settings: string[] }
  t.same(line.settings.sort(), ['FAL_KEY', 'FAL_QUEUE_URL', 'FAL_REST_URL', 'HOST', 'RATE_LIMIT_SUBMIT_MAX'], 'the log names what the file set (CORS_ORIGINS came from the environment)')
  t.same(keyLeaks(server.stdout().split('\n')), [], 'never the key itself')
  t.equal(await server.stop(), 0, 'SIGTERM: exit 0')
})
