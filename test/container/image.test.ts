// The container image, built from the project's unmodified Dockerfile with buildah and run for real
// against the fal emulator. Run by `npm run test:container` (after prepare.sh), not by `npm test`.
import { randomUUID } from 'node:crypto'
import { readFile, rm, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { createFalClient } from '@fal-ai/client'
import t from 'tap'
import { loadConfig, SETTING_NAMES } from '../../src/config.js'
import { createEmulator } from '../../src/emulator/emulator.js'
import { ILLUSION, LAYER, illusionInput, layerInput } from '../helpers/fixtures.js'
import { freePort } from '../helpers/free-port.js'
import { baseImageOf } from './base-image.js'
import { buildah, imageConfig, runContainer, type ImageConfig } from './buildah.js'
import { buildContextWithPlantedSecrets, PLANTED_PATHS } from './build-context.js'
import { bytesByGroup, exportImage, layerDigestsOf, layerEntries, needlesIn, type ExportedImage, type ExportedLayer, type LayerEntry } from './image-archive.js'
import { readComposeFile, resolvedGatewayEnvironment } from '../deploy/compose-file.js'
import { startRedisServer } from '../helpers/redis-server.js'
import { readDocumentedContainer } from './documented-container.js'
import { pidListeningOn } from './processes.js'
import { runAsInit } from './run-as-init.js'
import type { RunningContainer } from './running-container.js'

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url))
/** The budget for what the project adds on top of the base image. */
const MAX_ADDED_BYTES = 80_000_000
const MB = (bytes: number): string => `${(bytes / 1_000_000).toFixed(1)} MB`

t.setTimeout(20 * 60_000)

// A key made for this run: it is planted in the build context and given at run time, and must
// turn up in no layer, no image config, no log line and no response.
const FAL_KEY = `container-canary-id:container-canary-secret-${randomUUID()}`
const KEY_SECRET = FAL_KEY.split(':')[1] as string

const documented = await readDocumentedContainer(join(PROJECT_ROOT, 'docs', 'deployment.md'))
const dockerfile = await readFile(join(PROJECT_ROOT, 'Dockerfile'), 'utf8')
const base = baseImageOf(dockerfile)
const baseImage = base.standIn
/** The Node release package.json pins, which the official image's digest also carries. */
const pinnedNode = (JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.node as string
// buildah names a tag without a registry as a local image.
const image = `localhost/${documented.build.tag}:latest`
const pod = documented.pod.containers[0]
if (pod === undefined) throw new Error('docs/deployment.md\'s pod spec has no container')
// What npm installs for development only (the lockfile marks it), directly or not.
const lockfile = JSON.parse(await readFile(join(PROJECT_ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> }
const devOnlyPackages = Object.entries(lockfile.packages).filter(([, entry]) => entry.dev === true).map(([path]) => path)
/**
 * As for every test gateway (helpers/gateway.ts): load shedding and Redis's command timeout are
 * tested on their own; on a busy test machine their defaults would refuse requests at random.
 */
const BUSY_MACHINE = { MAX_EVENT_LOOP_DELAY_MS: '0', REDIS_COMMAND_TIMEOUT_MS: '10000' }
/** The image runs with the default SHUTDOWN_GRACE_MS. */
const GRACE_MS = loadConfig({ FAL_KEY }).shutdownGraceMs

let scratch = ''
let context = ''
let config: ImageConfig = {}
let inspected = ''
let exported: ExportedImage
let baseDigests = new Set<string>()
let addedLayers: ExportedLayer[] = []
let addedEntries: LayerEntry[] = []

t.before(async () => {
  t.comment(`tap on Node ${process.versions.node}; buildah bud --pull=never --build-arg NODE_IMAGE=${baseImage} -t ${documented.build.tag} (docs/deployment.md's "docker build -t ${documented.build.tag} ${documented.build.context}"), the stand-in for ${base.pinned}`)
  scratch = await mkdtemp(join(tmpdir(), 'fal-gateway-image-'))
  context = await buildContextWithPlantedSecrets(PROJECT_ROOT, FAL_KEY)
  // --layers: one layer per instruction, as Docker makes them, so a file added by one step and
  // deleted by a later one still shows in the scan.
  await buildah('bud', '--pull=never', '--build-arg', `NODE_IMAGE=${baseImage}`, '--layers', '--network', 'host', '--format', 'docker', '-t', documented.build.tag, '-f', join(context, 'Dockerfile'), context)
  ;({ config, raw: inspected } = await imageConfig(image))
  exported = await exportImage(image, join(scratch, 'image'))
  baseDigests = new Set(await layerDigestsOf(baseImage))
  addedLayers = exported.layers.filter(layer => !baseDigests.has(layer.digest))
  addedEntries = (await Promise.all(addedLayers.map(async layer => await layerEntries(layer.file)))).flat()
})

t.teardown(async () => {
  await buildah('rmi', '--force', image).catch(() => {})
  await buildah('rmi', '--prune').catch(() => {})
  await rm(scratch, { recursive: true, force: true })
  await rm(context, { recursive: true, force: true })
})

t.test('the Dockerfile builds on the official Node 24 image, pinned by digest', async t => {
  t.match(base.pinned, /^docker\.io\/library\/node:24-bookworm-slim@sha256:[0-9a-f]{64}$/, `ARG NODE_IMAGE defaults to node:24-bookworm-slim by digest (${base.pinned})`)
  // eslint-disable-next-line no-template-curly-in-string -- the Dockerfile's variable, verbatim
  t.same(base.fromLines, ['${NODE_IMAGE}', '${NODE_IMAGE}'], 'both stages start from it, and from nothing else')
  const { config: standIn } = await imageConfig(baseImage)
  t.equal(standIn.Labels?.['fal-gateway.stand-in-for'], base.pinned, `this test builds on ${baseImage}, a local stand-in for exactly that image`)
  const version = await runToOutput(['node', '--version'])
  t.equal(version.trim(), `v${pinnedNode}`, `the image's node is Node ${pinnedNode}, the release package.json pins`)
})

t.test('the image is configured for production', async t => {
  t.equal(documented.build.context, '.', 'docs/deployment.md builds from the project root')
  t.equal(documented.run.image, documented.build.tag, 'docs/deployment.md runs the image it builds')
  t.match(config.User, /^[1-9]\d*(:\d+)?$/, 'USER is a numeric non-root uid, as Kubernetes\' runAsNonRoot requires')
  t.equal(pod.securityContext?.runAsNonRoot, true, 'docs/deployment.md\'s pod spec asks for runAsNonRoot')
  t.ok(config.Env?.includes('NODE_ENV=production'), 'NODE_ENV=production')
  t.same(Object.keys(config.ExposedPorts ?? {}), [`${documented.run.containerPort}/tcp`], 'exposes the port docs/deployment.md publishes')
  t.same(config.Cmd, ['node', 'dist/server.js'], 'exec-form CMD: node itself gets the signals, no shell in between')
  t.match(config.Healthcheck, { Test: ['CMD', 'node', '-e', /\/healthz/] }, 'HEALTHCHECK probes /healthz')
  const configuredNames = (config.Env ?? []).map(entry => entry.split('=')[0] as string)
  t.same(configuredNames.filter(name => SETTING_NAMES.includes(name) && name !== 'NODE_ENV'), [], 'no gateway setting is baked into the image')
})

t.test('no key and no host artifact is in any layer or in the image config', async t => {
  t.ok(addedLayers.length > 0 && addedLayers.length < exported.layers.length, 'the image is the base layers plus the project\'s own')
  for (const layer of exported.layers) {
    t.same(await needlesIn(layer.file, [FAL_KEY, KEY_SECRET]), [], `layer ${layer.digest.slice(7, 19)} (${MB(layer.bytes)}) holds no trace of the key`)
  }
  t.same(await needlesIn(exported.configFile, [FAL_KEY, KEY_SECRET]), [], 'the exported image config holds no trace of the key')
  t.notOk(inspected.includes(KEY_SECRET), 'buildah inspect shows no trace of the key')

  const paths = addedEntries.map(entry => entry.path.replace(/^\.?\/?/, ''))
  const isPlanted = (path: string): boolean => PLANTED_PATHS.some(planted => path.endsWith(planted)) || /(^|\/)\.env/.test(path)
  t.same(paths.filter(isPlanted), [], `none of the planted files (${PLANTED_PATHS.join(', ')}) was copied`)
  t.same(paths.filter(path => /^app\/(test|\.git|bench|scripts)(\/|$)/.test(path)), [], 'no tests, git data, benchmark or scripts')
  t.same(paths.filter(path => /^tmp\/./.test(path)), [], 'nothing the build left in /tmp (npm\'s cache, Node\'s compile cache)')
  t.ok(paths.includes('app/dist/server.js'), 'the compiled gateway is there')
  t.same(paths.filter(path => /^app\/src\//.test(path)), [], 'no sources: the demo page comes prebuilt')
  t.ok(paths.includes('app/dist/demo/bundle/app.js'), 'the demo\'s prebuilt bundle is there')
  t.same(paths.filter(path => /^app\/dist\/(emulator\/|dev\.js)/.test(path)), [], 'neither the fal emulator nor the development entry')
  const folders = new Set(paths.flatMap(path => path.split('/').map((_, index, parts) => parts.slice(0, index).join('/'))))
  t.same(devOnlyPackages.filter(path => folders.has(`app/${path}`)), [], `none of the ${devOnlyPackages.length} development-only packages: production dependencies only`)
})

t.test(`what the project adds to the base image stays under ${MB(MAX_ADDED_BYTES)}`, async t => {
  const added = addedLayers.reduce((sum, layer) => sum + layer.bytes, 0)
  const base = exported.layers.filter(layer => baseDigests.has(layer.digest)).reduce((sum, layer) => sum + layer.bytes, 0)
  const top = bytesByGroup(addedEntries, 2).slice(0, 4)
  const packages = bytesByGroup(addedEntries.filter(entry => /^\.?\/?app\/node_modules\//.test(entry.path)), 3).slice(0, 6)
  t.comment(`the project adds ${MB(added)} (uncompressed) on top of the ${MB(base)} base image`)
  t.comment(`by folder: ${top.map(([path, bytes]) => `${path} ${MB(bytes)}`).join(', ')}`)
  t.comment(`largest packages: ${packages.map(([path, bytes]) => `${path.replace(/^\.?\/?app\/node_modules\//, '')} ${MB(bytes)}`).join(', ')}`)
  t.ok(added < MAX_ADDED_BYTES, `${MB(added)} < ${MB(MAX_ADDED_BYTES)}`)
})

t.test('docs/deployment.md\'s docker run, against the fal emulator: probes, both models, non-root, SIGTERM to PID 1', async t => {
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 100, processingMs: 2500 })
  t.teardown(() => emulator.close())
  const emulatorUrl = await emulator.listen()
  // On the host network there is no -p mapping: the gateway listens on a free port instead of 3000.
  const port = await freePort([documented.run.containerPort])
  const url = `http://127.0.0.1:${port}`
  const documentedEnv = Object.fromEntries(documented.run.env.map(({ name, value }) => [name, value ?? (name === 'FAL_KEY' ? FAL_KEY : '')]))
  t.same(documented.run.env.map(entry => entry.name).filter(name => !SETTING_NAMES.includes(name)), [], 'docs/deployment.md sets only settings the gateway knows')
  const gateway = await runAsInit(image, config, {
    ...documentedEnv,
    PORT: String(port),
    HOST: '127.0.0.1',
    // fal itself is out of reach here: the emulator plays it.
    FAL_QUEUE_URL: emulatorUrl,
    FAL_REST_URL: emulatorUrl,
    ...BUSY_MACHINE
  })
  t.teardown(async () => { await gateway.remove() })
  const responses: string[] = []
  const get = async (path: string, init?: RequestInit): Promise<{ status: number, body: any }> => {
    const response = await fetch(new URL(path, url), init)
    const text = await response.text()
    responses.push(text)
    return { status: response.status, body: text.length > 0 && response.headers.get('content-type')?.includes('json') === true ? JSON.parse(text) : text }
  }

  await untilAnswering(`${url}/healthz`, gateway)
  t.same(pod.ports.map(port => port.containerPort), [documented.run.containerPort], 'the pod exposes the published port')
  for (const [name, probe] of [['liveness', pod.livenessProbe], ['readiness', pod.readinessProbe]] as const) {
    t.equal(probe.httpGet.port, documented.run.containerPort, `the ${name} probe targets the published port`)
    t.match(await get(probe.httpGet.path), { status: 200 }, `${name} probe ${probe.httpGet.path} answers 200`)
  }
  t.same(pod.env.map(entry => entry.name).filter(name => !SETTING_NAMES.includes(name)), [], 'the pod sets only settings the gateway knows')

  const pid = await pidListeningOn(port)
  t.ok(pid, 'the serving process is found by its port')
  const status = await readFile(`/proc/${pid as number}/status`, 'utf8')
  const uid = (config.User ?? '').split(':')[0] as string
  t.equal(/^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/).join(' '), [uid, uid, uid, uid].join(' '), `it runs as the image's uid ${uid} (real, effective, saved, filesystem), not root`)
  t.equal((await readFile(`/proc/${pid as number}/cmdline`, 'utf8')).split('\0').join(' ').trim(), 'node dist/server.js', 'the entrypoint exec\'d node: no shell stays in between to swallow SIGTERM')
  t.match(/^NSpid:\s+(.*)$/m.exec(status)?.[1], /\s1$/, 'node is PID 1 in the container\'s PID namespace, as docker run makes it')

  t.test('the HEALTHCHECK command passes against it, and fails where nothing listens', async t => {
    const probe = (config.Healthcheck?.Test ?? []).slice(1)
    t.equal(await runToExit(probe, { PORT: String(port) }), 0, 'exit code 0')
    t.equal(await runToExit(probe, { PORT: String(await freePort()) }), 1, 'exit code 1 without a gateway')
  })

  t.test('docs/deployment.md\'s preStop command runs in the image', async t => {
    const [program, seconds] = pod.lifecycle?.preStop?.exec?.command ?? []
    t.equal(program, 'sleep', 'preStop pauses')
    t.equal(await runToExit(['sleep', '0'], {}), 0, `the image has sleep (docs/deployment.md pauses ${seconds ?? '?'} s)`)
  })

  for (const [model, input] of [[ILLUSION, illusionInput], [LAYER, layerInput]] as const) {
    t.test(`${model}: submit, status until completed, result`, async t => {
      const submitted = await get(`/queue/${model}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) })
      t.match(submitted, { status: 202, body: { request_id: String, status_url: String, response_url: String } }, 'submitted')
      let polled = await get(submitted.body.status_url as string)
      for (const deadline = Date.now() + 30_000; polled.status === 202 && Date.now() < deadline; polled = await get(submitted.body.status_url as string)) await sleep(200)
      t.match(polled, { status: 200, body: { status: 'COMPLETED' } }, 'completed')
      const result = await get(submitted.body.response_url as string)
      t.match(result, { status: 200, body: { image: { url: String, content_type: 'image/png' }, seed: Number } }, 'the result')
    })
  }

  t.test('the official @fal-ai/client through its proxyUrl', async t => {
    const fal = createFalClient({ proxyUrl: { url: `${url}/api/fal/proxy`, when: 'always' } })
    const { data } = await fal.subscribe(LAYER, { input: layerInput, pollInterval: 200 })
    t.match(data, { image: { url: String }, seed: Number }, 'subscribe returns the result')
  })

  t.test('an invalid input is refused by the image and never reaches fal', async t => {
    const submitsBefore = emulator.callsOf('submit').length
    t.match(await get(`/queue/${ILLUSION}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' }),
      { status: 422, body: { code: 'VALIDATION_FAILED' } }, '422 VALIDATION_FAILED')
    t.equal(emulator.callsOf('submit').length, submitsBefore, 'no call to fal')
  })

  t.test('SIGTERM: in-flight requests finish, then exit code 0 within the grace period', async t => {
    const preStopMs = Number(pod.lifecycle?.preStop?.exec?.command.at(-1) ?? 0) * 1000
    t.ok(documented.pod.terminationGracePeriodSeconds * 1000 >= preStopMs + GRACE_MS, 'docs/deployment.md\'s terminationGracePeriodSeconds covers the preStop pause and SHUTDOWN_GRACE_MS')
    // The job runs until released, so the poll in flight at SIGTERM is surely answered 202.
    emulator.jobs.hold({ phase: 'IN_PROGRESS' })
    const submitted = await get(`/queue/${LAYER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(layerInput) })
    const stream = await fetch(new URL(`${submitted.body.status_url as string}/stream`))
    const streamText = stream.text()
    const statusCallsBefore = emulator.callsOf('status').length
    // fal keeps the poll waiting until the gateway has started draining.
    emulator.faults.set({ mode: 'hold', operations: ['status'] })
    const inFlight = get(submitted.body.status_url as string)
    for (const deadline = Date.now() + 10_000; emulator.callsOf('status').length === statusCallsBefore && Date.now() < deadline;) await sleep(10)
    t.equal(emulator.callsOf('status').length, statusCallsBefore + 1, 'a poll is waiting on fal when the signal comes')

    const signalledAt = Date.now()
    process.kill(pid as number, 'SIGTERM')
    // The drain has begun once readiness is false, or the port already closed.
    const draining = async (): Promise<boolean> => await fetch(`${url}/readyz`).then(response => response.status === 503, () => true)
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && !(await draining());) await sleep(50)
    emulator.faults.clear()
    t.match(await inFlight, { status: 202 }, 'the poll in flight at SIGTERM is answered')
    // The job ends within the grace period, so its stream ends on its own, with the job's last event.
    emulator.jobs.release()
    t.match(await streamText, /"status":"COMPLETED"/, 'the open status stream runs to the job\'s end')
    // As PID 1, a node without its own SIGTERM handler would not even notice the signal.
    const code = await Promise.race([gateway.exited, sleep(GRACE_MS + 5000, 'still running', { ref: false })])
    // Past SHUTDOWN_GRACE_MS it would exit 1.
    t.equal(code, 0, `exit code 0: drained within SHUTDOWN_GRACE_MS (${Date.now() - signalledAt} ms)`, { output: code === 0 ? undefined : gateway.output().slice(-4000) })
    if (code === 'still running') await gateway.remove()
  })

  t.test('the key appears in no log line and no response', async t => {
    const output = gateway.output()
    t.match(output, /Server listening/, 'the gateway logged')
    t.notOk(output.includes(KEY_SECRET), 'no log line holds the key')
    t.same(responses.filter(text => text.includes(KEY_SECRET)), [], 'no response holds the key')
  })
})

t.test('two replicas of the image with deploy/compose.yaml\'s settings share requests through Redis', async t => {
  const redis = await startRedisServer()
  t.teardown(() => redis.stop())
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 100, processingMs: 300 })
  t.teardown(() => emulator.close())
  const emulatorUrl = await emulator.listen()
  const composeEnv = resolvedGatewayEnvironment(await readComposeFile(), { FAL_KEY })
  const replicas = await Promise.all([0, 1].map(async () => {
    const port = await freePort([documented.run.containerPort])
    const replica = await runAsInit(image, config, {
      ...composeEnv,
      // Compose's service names stand for loopback addresses here.
      REDIS_URL: redis.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      FAL_QUEUE_URL: emulatorUrl,
      FAL_REST_URL: emulatorUrl,
      ...BUSY_MACHINE
    })
    t.teardown(async () => { await replica.remove() })
    const url = `http://127.0.0.1:${port}`
    await untilAnswering(`${url}/readyz`, replica)
    return { url, replica }
  }))
  const [first, second] = replicas as [typeof replicas[0], typeof replicas[0]]

  const submitted = await fetch(`${first.url}/queue/${LAYER}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(layerInput) })
  const submittedBody = await submitted.json() as { status_url: string, response_url: string }
  t.equal(submitted.status, 202, 'submitted on the first replica', { body: submittedBody, output: submitted.status === 202 ? undefined : first.replica.output().slice(-4000) })
  const { status_url: statusUrl, response_url: responseUrl } = submittedBody
  t.ok(statusUrl.startsWith(composeEnv.PUBLIC_URL as string), `its URLs point at the load balancer (${composeEnv.PUBLIC_URL as string})`)

  let status = 0
  for (const deadline = Date.now() + 30_000; status !== 200 && Date.now() < deadline; await sleep(200)) {
    status = (await fetch(`${second.url}${new URL(statusUrl).pathname}`)).status
    if (status !== 202 && status !== 200) break
  }
  t.equal(status, 200, 'the second replica knows who owns the job and follows it to completion')
  const result = await fetch(`${second.url}${new URL(responseUrl).pathname}`)
  t.match({ status: result.status, body: await result.json() }, { status: 200, body: { image: { url: String } } }, 'and serves its result')
  t.same(replicas.map(({ replica }) => replica.output()).filter(output => output.includes(KEY_SECRET)), [], 'neither replica logged the key')
})

/** Waits until `url` answers 200, failing fast if the container exits first. */
async function untilAnswering (url: string, container: RunningContainer): Promise<void> {
  const state = { exited: false }
  container.exited.then(() => { state.exited = true }, () => {})
  for (const deadline = Date.now() + 60_000; Date.now() < deadline && !state.exited; await sleep(200)) {
    const ok = await fetch(url).then(response => response.ok, () => false)
    if (ok) return
  }
  throw new Error(`the gateway never answered ${url}:\n${container.output()}`)
}

/** What `command` prints in a container of the image. */
async function runToOutput (command: string[]): Promise<string> {
  const container = await runContainer(image, command, {})
  try {
    const code = await container.exited
    if (code !== 0) throw new Error(`${command.join(' ')} exited with ${String(code)}: ${container.output()}`)
    return container.output()
  } finally {
    await container.remove()
  }
}

/** Runs `command` in a second container of the image, as an engine runs a HEALTHCHECK or a preStop hook. */
async function runToExit (command: string[], env: Record<string, string>): Promise<number | null> {
  const container = await runContainer(image, command, env)
  try {
    return await container.exited
  } finally {
    await container.remove()
  }
}
