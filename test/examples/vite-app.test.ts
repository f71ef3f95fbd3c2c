import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { PNG } from 'pngjs'
import { chromium } from 'playwright-core'
import { startProcess, shellEnvironment } from '../helpers/child-process.js'
import { freePort } from '../helpers/free-port.js'
import { projectRoot } from '../helpers/project-copy.js'

const CHROMIUM = '/usr/bin/chromium'
const EXAMPLE = join(projectRoot, 'examples', 'vite-app')
const ARTIFACTS = join(projectRoot, 'test-artifacts')

/** A 64×64 checkerboard: a pattern image for Illusion Diffusion. */
function patternPng (): Buffer {
  const size = 64
  const png = new PNG({ width: size, height: size })
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const offset = (y * size + x) * 4
      png.data.fill((Math.floor(x / 8) + Math.floor(y / 8)) % 2 === 0 ? 0 : 255, offset, offset + 3)
      png.data[offset + 3] = 255
    }
  }
  return PNG.sync.write(png)
}

// Each case starts npm, node and Vite processes: slow on a busy machine.
t.setTimeout(400_000)

t.test('the Vite example type-checks and builds', async t => {
  const out = await mkdtemp(join(tmpdir(), 'vite-example-build-'))
  t.teardown(() => rm(out, { recursive: true, force: true }))
  const build = startProcess(t, 'npm', ['run', 'build', '--', '--outDir', out, '--emptyOutDir'], { cwd: EXAMPLE, env: shellEnvironment() })
  t.equal(await build.exited, 0, 'npm run build succeeds', { stderr: build.stderr() })
  const html = await readFile(join(out, 'index.html'), 'utf8')
  t.match(html, /<script type="module"[^>]*src="\/assets\/[^"]+\.js"/, 'the page loads its bundle')
})

const missing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium); CI installs it`

t.test('the Vite example, served by Vite, runs through `npm run dev` in Chromium: upload, progress, image, 422, 429', { skip: missing }, async t => {
  const work = await mkdtemp(join(tmpdir(), 'vite-example-'))
  t.teardown(() => rm(work, { recursive: true, force: true }))
  const patternPath = join(work, 'checkers.png')
  await writeFile(patternPath, patternPng())
  await mkdir(ARTIFACTS, { recursive: true })

  // The gateway as a developer starts it; two submits per window, so the third shows the 429.
  const [port, emulatorPort, vitePort] = [await freePort(), await freePort(), await freePort()]
  const dev = startProcess(t, 'npm', ['run', 'dev'], {
    cwd: projectRoot,
    env: shellEnvironment({ PORT: String(port), EMULATOR_PORT: String(emulatorPort), RATE_LIMIT_SUBMIT_MAX: '2', RATE_LIMIT_SUBMIT_WINDOW: '3600000' })
  })
  const [banner] = await dev.waitFor(/fal-gateway in development mode[\s\S]*?\n {2}Logs[^\n]*\n/)
  const proxyUrl = /proxyUrl\s+(http:\/\/\S+)/.exec(banner)?.[1] as string
  const emulatorUrl = /Emulator\s+(http:\/\/[\d.:]+)/.exec(banner)?.[1] as string
  t.equal(proxyUrl, `http://127.0.0.1:${port}/api/fal/proxy`, 'the banner gives the proxy URL')
  const emulator = async (path: string, init?: RequestInit): Promise<Response> => await fetch(`${emulatorUrl}${path}`, init)
  const hold = async (phase: string): Promise<void> => {
    await emulator('/_emulator/holds', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ phase }) })
  }
  const release = async (phase: string): Promise<void> => { await emulator(`/_emulator/holds?phase=${phase}`, { method: 'DELETE' }) }
  const submits = async (): Promise<number> => ((await (await emulator('/_emulator/calls?operation=submit')).json()) as unknown[]).length

  // The example as its README runs it, told where the gateway is.
  const vite = startProcess(t, 'npm', ['run', 'dev', '--', '--port', String(vitePort)], { cwd: EXAMPLE, env: shellEnvironment({ VITE_FAL_PROXY_URL: proxyUrl }) })
  const [, appUrl] = await vite.waitFor(/Local:\s+(http:\/\/localhost:\d+\/)/)
  t.equal(appUrl, `http://localhost:${vitePort}/`)

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-quic', '--no-first-run', '--disable-sync']
  })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 900, height: 1000 } })
  const problems: string[] = []
  page.on('pageerror', error => { problems.push(`page error: ${error.message}`) })
  page.on('console', message => {
    // Chromium reports every non-2xx fetch (as `response` below, with its URL).
    if (message.type() === 'error' && !/status of \d{3}/.test(message.text())) problems.push(`console: ${message.text()}`)
  })
  page.on('response', response => {
    // The 422 and 429 are the point of the last steps.
    if (response.status() >= 400 && ![422, 429].includes(response.status())) problems.push(`${response.status()} for ${response.url()}`)
  })

  await page.goto(appUrl as string)
  const status = page.locator('#status')
  const problem = page.locator('#problem')

  await t.test('upload, submit, progress, image', async t => {
    await page.setInputFiles('[name=pattern]', patternPath)
    await page.fill('[name=prompt]', 'a chessboard garden, seen from above')
    // fal keeps the job in each phase until the page has shown it.
    await hold('IN_QUEUE')
    await hold('IN_PROGRESS')
    await page.click('button[type=submit]')
    await status.filter({ hasText: /^In queue/ }).waitFor()
    await release('IN_QUEUE')
    await status.filter({ hasText: /^Generating/ }).waitFor()
    await page.locator('#logs li').first().waitFor()
    t.ok(await page.locator('#logs li').count() > 0, 'the run\'s log lines are shown')
    await release('IN_PROGRESS')

    const image = page.locator('#result')
    await page.waitForFunction(element => element instanceof HTMLImageElement && element.complete && element.naturalWidth > 0, await image.elementHandle())
    t.equal(await image.evaluate(element => (element as HTMLImageElement).naturalWidth), 512, 'the generated image is shown, at the size asked for')
    t.match(await image.getAttribute('src'), /^http:\/\/127\.0\.0\.1:\d+\/files\//, 'from fal\'s (the emulator\'s) file URL')
    t.match(await page.locator('figcaption').textContent(), /512×512, seed \d+/)
    t.equal(await submits(), 1, 'fal received one submit')
    const uploads = (await (await emulator('/_emulator/calls?operation=upload-initiate')).json()) as Array<{ body: { file_name: string } }>
    t.equal(uploads.at(-1)?.body.file_name, 'checkers.png', 'the pattern went through fal storage')
    await page.screenshot({ path: join(ARTIFACTS, 'vite-example-result.png') })
  })

  await t.test('a bad field shows the 422 next to the field, and fal receives nothing', async t => {
    await page.fill('[name=width]', '500')
    await page.click('button[type=submit]')
    await problem.and(page.locator('.invalid')).waitFor()
    t.match(await problem.textContent(), /Some fields need a fix/)
    t.match(await page.locator('.field-error[data-field=image_size]').textContent(), /width: .*multiple of 8/)
    t.equal(await page.locator('[name=width]').getAttribute('aria-invalid'), 'true', 'the field is marked')
    t.equal(await submits(), 1, 'the invalid input never reached fal')
    await page.screenshot({ path: join(ARTIFACTS, 'vite-example-422.png') })
  })

  await t.test('past the submit limit, the 429 says when to come back', async t => {
    await page.fill('[name=width]', '512')
    await page.click('button[type=submit]')
    await problem.and(page.locator('.slow-down')).waitFor()
    t.match(await problem.textContent(), /^Slow down: Too many submit requests: retry in \d+ seconds/)
    t.equal(await page.locator('.field-error[data-field=image_size]').textContent(), '', 'the old field error is gone')
    t.equal(await submits(), 1)
    await page.screenshot({ path: join(ARTIFACTS, 'vite-example-429.png') })
  })

  t.same(problems, [], 'no page errors')
  t.notMatch(dev.stdout() + dev.stderr(), /\bERROR\b/, 'the gateway logged no error')
  await Promise.all([vite.stop(), dev.stop()])
})
