import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { PNG } from 'pngjs'
import { chromium, type Page } from 'playwright-core'
import { FAL_KEY, startGateway } from '../helpers/gateway.js'

const CHROMIUM = '/usr/bin/chromium'
const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts')
const SECRET = FAL_KEY.split(':')[1] as string
// `Key <id>:<secret>` is how @fal-ai/client sends credentials; the bundle's own `Key ${…}` template is fine.
const KEY_AUTHORIZATION = /Key\s+[\w-]+:[\w-]+/

/** A 96×96 concentric-rings pattern, the kind of image Illusion Diffusion hides in a scene. */
function patternPng (): Buffer {
  const size = 96
  const png = new PNG({ width: size, height: size })
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const ring = Math.floor(Math.hypot(x - size / 2, y - size / 2) / 8) % 2
      const offset = (y * size + x) * 4
      png.data.fill(ring === 0 ? 0 : 255, offset, offset + 3)
      png.data[offset + 3] = 255
    }
  }
  return PNG.sync.write(png)
}

/** Waits until the model's result <img> has decoded a real image, and returns its natural width. */
async function resultWidth (page: Page, slug: string): Promise<number> {
  const image = page.locator(`#${slug} img.result-image`)
  await page.waitForFunction(
    (element) => element instanceof HTMLImageElement && element.complete && element.naturalWidth > 0,
    await image.elementHandle(),
    { timeout: 20_000 }
  )
  return await image.evaluate(element => (element as HTMLImageElement).naturalWidth)
}

function leaks (text: string): boolean {
  return text.includes(FAL_KEY) || text.includes(SECRET) || KEY_AUTHORIZATION.test(text)
}

const missing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`

t.test('the /demo page runs both models in real Chromium without ever holding the fal key', { skip: missing }, async t => {
  const gateway = await startGateway(t, {
    env: { DEMO_ENABLED: 'true', CLIENT_BUDGET_DAY_MICRO_USD: '1000000' },
    emulator: { queueMs: 300, processingMs: 600 }
  })
  const work = await mkdtemp(join(tmpdir(), 'demo-e2e-'))
  t.teardown(() => rm(work, { recursive: true, force: true }))
  await mkdir(ARTIFACTS, { recursive: true })
  const patternPath = join(work, 'rings.png')
  await writeFile(patternPath, patternPng())

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const page = await context.newPage()

  const requests: Array<Promise<string>> = []
  page.on('request', request => {
    requests.push((async () => {
      const body = request.postDataBuffer()?.toString('latin1') ?? ''
      return [request.method(), request.url(), JSON.stringify(await request.allHeaders()), body].join('\n')
    })())
  })
  const problems: string[] = []
  page.on('pageerror', error => { problems.push(`page error: ${error.message}`) })
  page.on('console', message => {
    // Chromium reports every non-2xx fetch; the 422 of the validation case is expected.
    if (message.type() === 'error' && !/status of 422/.test(message.text())) problems.push(`console: ${message.text()}`)
  })

  const response = await page.goto(`${gateway.url}/demo`)
  t.equal(response?.status(), 200, 'the gateway serves /demo')
  if (response?.ok() !== true) return
  t.match(response?.headers()['content-security-policy'], /script-src 'self'/, 'the page is served with a strict CSP')
  await page.locator('#illusion-diffusion form').waitFor()
  // Every text each model's status line shows, so transient ones (the queue position) can be checked.
  await page.evaluate(() => {
    const seen: Record<string, string[]> = {}
    for (const status of document.querySelectorAll<HTMLElement>('.status')) {
      const texts = seen[status.id] = [] as string[]
      new MutationObserver(() => { texts.push(status.textContent ?? '') }).observe(status, { childList: true, characterData: true, subtree: true })
    }
    Object.assign(window, { statusSeen: seen })
  })
  const statusSeen = (slug: string) => page.evaluate(id => (window as unknown as { statusSeen: Record<string, string[]> }).statusSeen[id] ?? [], `${slug}-status`)
  // fal holds the model's next job in each phase until the page has shown it.
  const holdEachPhase = (): void => {
    gateway.emulator.jobs.hold({ phase: 'IN_QUEUE' })
    gateway.emulator.jobs.hold({ phase: 'IN_PROGRESS' })
  }
  const releaseEachPhaseOnceShown = async (slug: string): Promise<void> => {
    const status = page.locator(`#${slug}-status`)
    await status.filter({ hasText: /^In queue/ }).waitFor()
    gateway.emulator.jobs.release({ phase: 'IN_QUEUE' })
    await status.filter({ hasText: /^Generating/ }).waitFor()
    gateway.emulator.jobs.release({ phase: 'IN_PROGRESS' })
  }

  await t.test('Illusion Diffusion with a pattern uploaded from disk', async t => {
    await page.setInputFiles('#illusion-diffusion-image_url', patternPath)
    await page.fill('#illusion-diffusion-prompt', 'a spiral staircase in a lighthouse, seen from above')
    await page.fill('#illusion-diffusion-seed', '42')
    holdEachPhase()
    await page.click('#illusion-diffusion button[type="submit"]')
    await releaseEachPhaseOnceShown('illusion-diffusion')

    t.ok(await resultWidth(page, 'illusion-diffusion') > 0, 'the result image is shown')
    await page.locator('#illusion-diffusion .status[data-tone="done"]').waitFor()
    t.ok(await page.locator('#illusion-diffusion .logs li').count() > 0, 'the run logs are shown')
    const seen = await statusSeen('illusion-diffusion')
    t.ok(seen.some(text => text.startsWith('Uploading rings.png')), 'the upload is shown')
    t.ok(seen.some(text => text.startsWith('In queue')), 'the queue position is shown')
    t.ok(seen.some(text => text.startsWith('Generating')), 'the progress is shown')

    const [initiate] = gateway.emulator.callsOf('upload-initiate')
    const [put] = gateway.emulator.callsOf('upload-put')
    t.ok(initiate !== undefined && put !== undefined, 'the pattern went through fal storage: initiate, then PUT')
    const submit = gateway.emulator.callsOf('submit').at(-1)
    const imageUrl = (submit?.body as { image_url?: string } | undefined)?.image_url
    t.match(imageUrl, /\/files\/uploads\/.+\/rings\.png$/, 'the submit uses the uploaded file URL')
    t.equal((submit?.body as { seed?: number }).seed, 42, 'the form values reach fal')
    await page.locator('#illusion-diffusion').screenshot({ path: join(ARTIFACTS, 'demo-illusion-diffusion.png') })
  })

  await t.test('Layer Diffusion, shown on a checkerboard', async t => {
    await page.fill('#layer-diffusion-prompt', 'a red paper lantern')
    await page.locator('#layer-diffusion-price', { hasText: 'Price: $0.03' }).waitFor()
    t.pass('the form shows its price before submit')
    holdEachPhase()
    await page.click('#layer-diffusion button[type="submit"]')
    await releaseEachPhaseOnceShown('layer-diffusion')
    // $1 less both runs: Illusion Diffusion's 30 estimated compute seconds ($0.0333) and this image ($0.03).
    await page.locator('#layer-diffusion-budget', { hasText: 'Budget left today: $0.9367' }).waitFor()
    t.pass('and the budget left after the run')

    t.ok(await resultWidth(page, 'layer-diffusion') > 0, 'the result image is shown')
    await page.locator('#layer-diffusion .status[data-tone="done"]').waitFor()
    t.ok(await page.locator('#layer-diffusion .canvas.checkerboard img.result-image').count() === 1, 'the image sits on the checkerboard')
    t.ok((await statusSeen('layer-diffusion')).some(text => text.startsWith('In queue')), 'the queue position is shown')
    t.equal(gateway.emulator.callsOf('submit').at(-1)?.appId, 'fal-ai/layer-diffusion', 'fal ran Layer Diffusion')
    await page.locator('#layer-diffusion').screenshot({ path: join(ARTIFACTS, 'demo-layer-diffusion.png') })
  })

  await t.test('a bad custom width is refused and shown next to its field', async t => {
    const submitsBefore = gateway.emulator.callsOf('submit').length
    await page.selectOption('#illusion-diffusion-image_size', 'custom')
    await page.fill('#illusion-diffusion-image_size-width', '100')
    await page.click('#illusion-diffusion button[type="submit"]')

    const message = page.locator('[data-field="image_size.width"] > .field-error')
    await message.waitFor({ state: 'visible' })
    t.match(await message.textContent(), /multiple of 8/, 'the gateway\'s message is shown under the width field')
    t.equal(await page.locator('#illusion-diffusion-image_size-width').getAttribute('aria-invalid'), 'true', 'the width box is marked invalid')
    t.match(await page.locator('#illusion-diffusion .status').textContent(), /refused/, 'the status says the input was refused')
    t.equal(gateway.emulator.callsOf('submit').length, submitsBefore, 'fal received nothing')
    t.equal(gateway.emulator.callsOf('upload-put').length, 1, 'the pattern already uploaded is not uploaded again')
    await page.locator('#illusion-diffusion').screenshot({ path: join(ARTIFACTS, 'demo-validation-error.png') })
  })

  await t.test('nothing the page sent or holds contains the fal key', async t => {
    const held = await page.evaluate(async () => {
      const scripts = await Promise.all([...document.scripts].map(async script =>
        script.src === '' ? script.text : await (await fetch(script.src)).text()))
      const databases = await indexedDB.databases()
      return {
        html: document.documentElement.outerHTML,
        scripts,
        localStorage: JSON.stringify({ ...localStorage }),
        sessionStorage: JSON.stringify({ ...sessionStorage }),
        cookie: document.cookie,
        indexedDB: databases.map(database => database.name ?? '')
      }
    })
    const cookies = JSON.stringify(await context.cookies())
    const sent = await Promise.all(requests)

    t.ok(held.scripts.length > 0 && held.scripts.every(text => text.length > 0), 'the page\'s scripts were read')
    t.ok(sent.some(line => line.includes('/api/fal/proxy')), 'the page called fal through the gateway\'s proxy')
    t.ok(sent.every(line => !line.includes('"authorization"')), 'no request the page made carries an authorization header')
    t.same(sent.filter(leaks), [], 'no request URL, header or body carries the key')
    const texts = [held.html, ...held.scripts, held.localStorage, held.sessionStorage, held.cookie, ...held.indexedDB, cookies]
    t.same(texts.filter(leaks), [], 'no HTML, script, storage, cookie or database name holds the key')
    t.ok(gateway.emulator.callsOf('submit').every(call => call.headers.authorization === `Key ${FAL_KEY}`), 'fal saw the gateway\'s key on every submit')
  })

  t.same(problems, [], 'the page logged no errors')
})
