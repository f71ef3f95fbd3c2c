import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const main = fileURLToPath(new URL('../../src/emulator/main.ts', import.meta.url))

t.test('the CLI listens on EMULATOR_PORT, needs the key, and exits 0 on SIGTERM', async t => {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, FAL_KEY: undefined, FAL_KEY_ID: 'id', FAL_KEY_SECRET: 'secret', EMULATOR_PORT: '0', EMULATOR_QUEUE_MS: '0', EMULATOR_PROCESSING_MS: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  let output = ''
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(output)
      if (match?.[1] !== undefined) resolve(match[1])
    })
    child.once('exit', code => reject(new Error(`exited ${code}: ${output}`)))
  })

  const response = await fetch(`${baseUrl}/fal-ai/layer-diffusion`, {
    method: 'POST',
    headers: { authorization: 'Key id:secret', 'content-type': 'application/json' },
    body: '{}'
  })
  t.equal(response.status, 200, 'FAL_KEY_ID and FAL_KEY_SECRET make the key id:secret')
  t.notMatch(output, /secret/, 'the key is not logged')

  child.kill('SIGTERM')
  const [code] = await once(child, 'exit')
  t.equal(code, 0)
})

t.test('the CLI refuses to start without a key', async t => {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    env: { ...process.env, FAL_KEY: '', FAL_KEY_ID: '', FAL_KEY_SECRET: '', EMULATOR_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'exit')
  t.equal(code, 1)
  t.match(stderr, /FAL_KEY/)
})
