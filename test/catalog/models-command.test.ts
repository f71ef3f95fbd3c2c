import t, { type Test } from 'tap'
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CommandError, ModelsCommand } from '../../src/catalog/models-command.js'
import { createEmulator } from '../../src/emulator/emulator.js'
import { startProcess, shellEnvironment } from '../helpers/child-process.js'
import { FAL_KEY, json, startGatewayOn } from '../helpers/gateway.js'
import { pollUntilCompleted, pathOf } from '../routes/queue/queue-client.js'

const PROJECT = fileURLToPath(new URL('../../', import.meta.url))
const LIBRARY = fileURLToPath(new URL('../../src/emulator/fal-documents/', import.meta.url))

async function emulatorWith (t: Test, library = LIBRARY) {
  const emulator = createEmulator({ falKey: FAL_KEY, queueMs: 30, processingMs: 60, library })
  const url = await emulator.listen()
  t.teardown(async () => { await emulator.close() })
  return { emulator, url }
}

function commandOn (modelsDir: string, falApiUrl: string, falKey: string | undefined = FAL_KEY) {
  const lines: string[] = []
  const command = new ModelsCommand({ modelsDir, falApiUrl, ...(falKey === undefined ? {} : { falKey }) }, line => { lines.push(line) }, () => '2026-12-02')
  return { lines, run: async (...argv: string[]) => { await command.run(argv) } }
}

t.test('npm run models -- add fal-ai/flux/dev against the emulator writes the file; after a restart the queue and proxy routes serve it', async t => {
  const { emulator, url } = await emulatorWith(t)
  const modelsDir = t.testdir()
  const added = startProcess(t, 'npm', ['run', '--silent', 'models', '--', 'add', 'fal-ai/flux/dev'], {
    cwd: PROJECT,
    env: shellEnvironment({ MODELS_DIR: modelsDir, FAL_API_URL: url, FAL_KEY })
  })
  t.equal(await added.exited, 0, `the command succeeds: ${added.stderr()}`)
  const path = join(modelsDir, 'fal-ai/flux/dev.json')
  t.match(added.stdout(), `added fal-ai/flux/dev -> ${path}`)
  const file = JSON.parse(readFileSync(path, 'utf8'))
  t.equal(file.endpoint_id, 'fal-ai/flux/dev')
  t.equal(file.title, 'FLUX.1 [dev]')
  t.same(file.price, { unit_price: 0.025, unit: 'megapixels', currency: 'USD' }, 'the price from fal\'s pricing API')
  t.equal(file.openapi.info.title, 'Queue OpenAPI for fal-ai/flux/dev', 'fal\'s document as published')
  t.notOk(readFileSync(path, 'utf8').includes(FAL_KEY.split(':')[1] as string), 'the key is not in the file')

  const gateway = await startGatewayOn(t, emulator, url, { MODELS_DIR: modelsDir })
  const submitted = await gateway.request('/queue/fal-ai/flux/dev', json({ prompt: 'a fox', num_images: 2, image_size: 'landscape_4_3' }))
  t.equal(submitted.status, 202, 'the three-segment endpoint is served')
  const { status_url: statusUrl, response_url: responseUrl } = submitted.json()
  t.match(statusUrl, /\/queue\/fal-ai\/flux\/requests\/[0-9a-f-]+\/status$/, 'status URLs name the app id')
  t.equal((await pollUntilCompleted(gateway, pathOf(statusUrl))).at(-1)?.status, 200)
  const result = (await gateway.request(pathOf(responseUrl))).json()
  t.equal(result.images.length, 2, 'num_images images')
  t.match(result.images[0], { content_type: 'image/png', width: 1024, height: 768 })
  t.equal((await fetch(result.images[0].url)).headers.get('content-type'), 'image/png', 'a real PNG')
  t.equal((await gateway.request('/queue/fal-ai/flux/dev', json({ prompt: 'a fox', num_inference_steps: 51 }))).status, 422, 'fal\'s bound on steps')
  t.equal((await gateway.request('/queue/fal-ai/illusion-diffusion', json({ prompt: 'x', image_url: 'https://x/y.png' }))).status, 404, 'only the catalog is served')

  const proxied = await gateway.request('/api/fal/proxy', { method: 'POST', headers: { 'content-type': 'application/json', 'x-fal-target-url': 'https://queue.fal.run/fal-ai/flux/dev' }, body: JSON.stringify({ prompt: 'a fox' }) })
  t.equal(proxied.status, 200, 'the proxy forwards a submit to the whole endpoint id')
  const requestId = proxied.json().request_id
  const polled = await gateway.request('/api/fal/proxy', { headers: { 'x-fal-target-url': `https://queue.fal.run/fal-ai/flux/requests/${requestId}/status` } })
  t.ok([200, 202].includes(polled.status), 'and its status at the app id')
  const refused = await gateway.request('/api/fal/proxy', { method: 'POST', headers: { 'content-type': 'application/json', 'x-fal-target-url': 'https://queue.fal.run/fal-ai/flux/schnell' }, body: '{}' })
  t.equal(refused.status, 403, 'an endpoint outside the catalog is refused')
})

t.test('refresh reports a changed bound and keeps the operator\'s overrides; show, list, remove', async t => {
  const root = t.testdir({ models: {}, library: {} })
  const before = await emulatorWith(t)
  const modelsDir = join(root, 'models')
  const first = commandOn(modelsDir, before.url)
  await first.run('add', 'fal-ai/flux/dev', 'fal-ai/whisper')
  const path = join(modelsDir, 'fal-ai/flux/dev.json')
  const file = JSON.parse(readFileSync(path, 'utf8'))
  file.overrides = { schema: [{ pointer: '/components/schemas/FluxDevInput/properties/num_images', merge: { maximum: 2 }, reason: 'our budget' }] }
  writeFileSync(path, JSON.stringify(file))

  // fal changes its document: steps now up to 60, and a field is gone.
  const library = join(root, 'library')
  cpSync(LIBRARY, library, { recursive: true })
  const documentPath = join(library, 'fal-ai__flux__dev.json')
  const document = JSON.parse(readFileSync(documentPath, 'utf8'))
  document.components.schemas.FluxDevInput.properties.num_inference_steps.maximum = 60
  delete document.components.schemas.FluxDevInput.properties.sync_mode
  writeFileSync(documentPath, JSON.stringify(document))
  const after = await emulatorWith(t, library)
  const refresh = commandOn(modelsDir, after.url)
  await refresh.run('refresh')
  const report = refresh.lines.join('\n')
  t.match(report, 'fal-ai/flux/dev: 2 change(s)')
  t.match(report, '~ num_inference_steps: bounds >= 1, <= 50 -> >= 1, <= 60')
  t.match(report, '- sync_mode: field removed')
  t.match(report, 'fal-ai/whisper: unchanged')
  t.same(JSON.parse(readFileSync(path, 'utf8')).overrides, file.overrides, 'the operator\'s overrides survive a refresh')

  const show = commandOn(modelsDir, after.url)
  await show.run('show', 'fal-ai/flux/dev')
  t.match(show.lines[0], 'fal-ai/flux/dev (FLUX.1 [dev]) · app fal-ai/flux · 0.025 USD per megapixels')
  t.ok(show.lines.some(line => /^ {2}prompt \* {2}string/.test(line)), 'required fields are starred')
  t.ok(show.lines.some(line => /^ {2}num_images {2}integer {2}>= 1, <= 2 {2}default 1$/.test(line)), 'the override\'s bound shows')

  const list = commandOn(modelsDir, after.url)
  await list.run('list')
  t.same(list.lines, ['fal-ai/flux/dev\tFLUX.1 [dev]\t0.025 USD/megapixels', 'fal-ai/whisper\tWhisper\t0.0015 USD/compute seconds'])
  await list.run('remove', 'fal-ai/whisper')
  t.notOk(existsSync(join(modelsDir, 'fal-ai/whisper.json')))
})

t.test('--from adds a saved document offline; mistakes are one clear line', async t => {
  const modelsDir = t.testdir()
  const command = commandOn(modelsDir, 'http://127.0.0.1:9', undefined)
  await command.run('add', '--from', join(LIBRARY, 'fal-ai__layer-diffusion.json'))
  t.match(command.lines[0], /^added fal-ai\/layer-diffusion -> .* \(no price: set overrides.price or add with FAL_KEY\)$/)
  await t.rejects(command.run('add', '--from', join(LIBRARY, 'fal-ai__layer-diffusion.json')), new CommandError(''), 'adding twice is refused')
  await t.rejects(command.run('add', 'fal-ai/flux/dev'), /cannot reach http:\/\/127\.0\.0\.1:9/)
  await t.rejects(command.run('add', 'not an id'), /is not a fal endpoint id/)
  await t.rejects(command.run('frobnicate'), /^usage:/)
  const { url } = await emulatorWith(t)
  await t.rejects(commandOn(modelsDir, url).run('add', 'fal-ai/nothing-here'), /fal-ai\/nothing-here: fal's platform API has no such endpoint/)
})
