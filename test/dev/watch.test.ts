import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import t from 'tap'
import { startProcess, shellEnvironment } from '../helpers/child-process.js'
import { freePort } from '../helpers/free-port.js'
import { projectCopy } from '../helpers/project-copy.js'

const BANNER = /fal-gateway in development mode[\s\S]*?\n {2}Logs[^\n]*\n/

// Each case starts node processes that compile TypeScript: slow on a busy machine.
t.setTimeout(300_000)

t.test('npm run dev:watch restarts with the new settings when .env changes', async t => {
  const project = await projectCopy(t)
  const port = await freePort()
  const envFile = join(project, '.env')
  await writeFile(envFile, `PORT=${port}\nRATE_LIMIT_SUBMIT_MAX=7\n`)
  const dev = startProcess(t, 'npm', ['run', 'dev:watch'], { cwd: project, env: shellEnvironment() })
  const first = await dev.waitFor(BANNER)
  t.match(first[0], /7 submits per 60 s/)
  // Wait for the listening line too, so the change lands on a server that is fully up.
  await dev.waitFor(/Server listening/)

  await writeFile(envFile, `PORT=${port}\nRATE_LIMIT_SUBMIT_MAX=8\n`)
  const second = await dev.waitFor(BANNER, { from: first.index + first[0].length })
  t.match(second[0], /8 submits per 60 s/, 'a new banner with the edited limit')
  t.match(second[0], `http://127.0.0.1:${port}`, 'on the same port: the old process let it go first')
  t.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200, 'and it serves')
  await dev.stop()
})
