import t from 'tap'
import { createServer, type Server } from 'node:net'
import { startProcess, shellEnvironment, type RunningProcess } from '../helpers/child-process.js'
import { freePort } from '../helpers/free-port.js'
import { projectRoot } from '../helpers/project-copy.js'
import { DEFAULT_EMULATOR_PORT } from '../../src/dev/emulator-listen.js'
import { ILLUSION, illusionInput } from '../routes/queue/queue-client.js'

interface DevServer {
  process: RunningProcess
  gateway: string
  emulatorPort: number
  banner: string
}

/** `npm run dev` as a developer types it, with PORT set; resolves once the banner is printed. */
async function startDev (t: Parameters<typeof startProcess>[0], port: number): Promise<DevServer> {
  const dev = startProcess(t, 'npm', ['run', 'dev'], { cwd: projectRoot, env: shellEnvironment({ PORT: String(port) }) })
  const [banner] = await dev.waitFor(/fal-gateway in development mode[\s\S]*?\n {2}Logs[^\n]*\n/)
  const gateway = /Gateway\s+(http:\/\/\S+)/.exec(banner)?.[1] as string
  const emulatorPort = Number(/Emulator\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(banner)?.[1])
  return { process: dev, gateway, emulatorPort, banner }
}

/** Listens on `port` so nothing else can; undefined when something already does. */
async function holdPort (port: number): Promise<Server | undefined> {
  const server = createServer()
  return await new Promise(resolve => {
    server.once('error', () => { resolve(undefined) })
    server.listen(port, '127.0.0.1', () => { resolve(server) })
  })
}

async function preflight (gateway: string, origin: string): Promise<Response> {
  return await fetch(`${gateway}/api/fal/proxy`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-fal-target-url' }
  })
}

async function submit (gateway: string, origin = 'http://localhost:5173'): Promise<Response> {
  return await fetch(`${gateway}/queue/${ILLUSION}`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: JSON.stringify(illusionInput) })
}

// Each case starts node processes that compile TypeScript: slow on a busy machine.
t.setTimeout(300_000)

t.test('npm run dev: a banner, any local origin, generous limits, and a second one beside it', async t => {
  const [firstPort, secondPort] = [await freePort(), await freePort()]
  const first = await startDev(t, firstPort)

  t.equal(first.gateway, `http://127.0.0.1:${firstPort}`, 'the banner gives the gateway URL, from PORT')
  for (const url of [`${first.gateway}/docs`, `${first.gateway}/demo`, `${first.gateway}/api/fal/proxy`]) t.match(first.banner, url, `the banner lists ${url}`)
  t.match(first.banner, /1000 submits per 60 s/, 'the banner prints the limits in force')
  t.match(first.banner, /CORS\s+any http:\/\/localhost:<port> or http:\/\/127\.0\.0\.1:<port> origin/)
  t.ok(first.emulatorPort > 0, 'the banner gives the emulator URL')

  for (const origin of ['http://localhost:5173', 'http://127.0.0.1:8080', 'http://localhost:3000']) {
    const answer = await preflight(first.gateway, origin)
    t.equal(answer.headers.get('access-control-allow-origin'), origin, `${origin} gets a CORS answer`)
  }
  for (const origin of ['https://app.example.com', 'http://localhost.evil.com:5173', 'https://localhost:5173']) {
    t.equal((await preflight(first.gateway, origin)).headers.get('access-control-allow-origin'), null, `${origin} gets none`)
  }

  // Production allows 10 submits a minute; a developer iterating on a form sends more.
  const statuses = []
  for (let i = 0; i < 12; i++) statuses.push((await submit(first.gateway)).status)
  t.same(statuses, Array(12).fill(202), '12 submits in a row are accepted')
  const accepted = await submit(first.gateway)
  t.equal(accepted.headers.get('access-control-allow-origin'), 'http://localhost:5173', 'the answer is readable by the page')
  const requestId = ((await accepted.json()) as { request_id: string }).request_id
  const status = await fetch(`${first.gateway}/queue/${ILLUSION}/requests/${requestId}/status`)
  t.ok([200, 202].includes(status.status), 'the gateway reaches its emulator')
  t.match(first.process.stdout(), /INFO.*Server listening/, 'logs are readable lines')
  t.notMatch(first.process.stdout(), /^\{"level"/m, 'not JSON')

  // A second `npm run dev` finds port 4000 taken: by the first, else by this test. (Other test
  // files' dev servers may hold it too, and let go of it at any moment.)
  const holder = first.emulatorPort === DEFAULT_EMULATOR_PORT ? undefined : await holdPort(DEFAULT_EMULATOR_PORT)
  const held = first.emulatorPort === DEFAULT_EMULATOR_PORT || holder !== undefined
  const second = await startDev(t, secondPort)
  await new Promise(resolve => holder?.close(resolve) ?? resolve(undefined))
  if (held) {
    t.match(second.banner, /port 4000 was taken/, 'the second says the default emulator port was taken')
    t.not(second.emulatorPort, DEFAULT_EMULATOR_PORT)
  } else {
    t.comment('port 4000 was held by another test\'s server: the moved-port message is not checked')
  }
  t.not(second.emulatorPort, first.emulatorPort, 'its emulator listens elsewhere than the first\'s')
  t.equal((await submit(second.gateway)).status, 202, 'the second serves too')
  t.equal((await fetch(`${first.gateway}/healthz`)).status, 200, 'and the first still does')

  // Ctrl-C signals the whole group (npm too, which then ends by the signal): the gateway closes cleanly.
  await Promise.all([second.process.stop(), first.process.stop()])
  t.match(second.process.stdout(), /INFO.*shut down/, 'the second shut down gracefully')
  t.match(first.process.stdout(), /INFO.*shut down/, 'the first too')
})
