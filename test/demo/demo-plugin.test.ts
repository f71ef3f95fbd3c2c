import t from 'tap'
import Fastify from 'fastify'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import demo, { DEMO_CSP } from '../../src/demo/demo-plugin.js'
import { writeDemoBundle } from '../../src/demo/build-bundle.js'

t.test('the demo plugin serves the page, its script and its styles under a strict CSP', async t => {
  const app = Fastify({ logger: false })
  await app.register(demo)
  t.teardown(() => app.close())

  const page = await app.inject('/demo')
  t.equal(page.statusCode, 200)
  t.match(page.headers['content-type'], /^text\/html/)
  t.equal(page.headers['content-security-policy'], DEMO_CSP)
  t.match(DEMO_CSP, /script-src 'self';/, 'no inline or remote script may run')
  t.match(page.body, /<script type="module" src="\/demo\/app\.js">/, 'the page loads its bundle')
  t.notMatch(page.body, /<script>|\sstyle=|\son\w+=/, 'the HTML has no inline script, style or handler the CSP would block')

  const script = await app.inject('/demo/app.js')
  t.equal(script.statusCode, 200)
  t.match(script.headers['content-type'], /^text\/javascript/)
  t.equal(script.headers['x-content-type-options'], 'nosniff')
  t.match(script.body, '/api/fal/proxy', 'the bundle sends fal calls to the gateway\'s proxy')

  const styles = await app.inject('/demo/app.css')
  t.equal(styles.statusCode, 200)
  t.match(styles.headers['content-type'], /^text\/css/)
  t.match(styles.body, '.checkerboard', 'the styles are bundled')
})

t.test('built by `npm run build`, the bundle is served from its files; without them start-up fails clearly', async t => {
  const directory = t.testdir()
  await writeDemoBundle(directory)
  const built = await readFile(join(directory, 'app.js'), 'utf8')
  const app = Fastify({ logger: false })
  await app.register(demo, { bundleDir: directory })
  t.teardown(() => app.close())
  t.equal((await app.inject('/demo/app.js')).body, built, 'the prebuilt script is served as written')
  t.match((await app.inject('/demo')).body, /<script type="module" src="\/demo\/app\.js">/, 'and its page')

  const missing = Fastify({ logger: false })
  t.teardown(() => missing.close())
  await t.rejects(async () => { await missing.register(demo, { bundleDir: join(directory, 'absent') }) }, /npm run build.*DEMO_ENABLED/, 'a missing bundle stops start-up with what to do')
})
