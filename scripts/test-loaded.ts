import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { availableParallelism } from 'node:os'
import { parseArgs } from 'node:util'

/**
 * `npm run test:loaded [-- --runs N]`: the whole `npm test`, N times in a row (1 by default), while
 * one busy process per core keeps the machine loaded, as other work would. The suite must not
 * depend on a quiet machine; this is how to show it. The busy processes go when the runs end.
 */
const { values } = parseArgs({ options: { runs: { type: 'string', default: '1' } } })
const runs = Number(values.runs)
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer, not "${values.runs ?? ''}"`)

const cores = availableParallelism()
const load: ChildProcess[] = Array.from({ length: cores }, () =>
  spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }))
const stopLoad = (): void => { for (const busy of load) busy.kill('SIGKILL') }
process.once('exit', stopLoad)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopLoad()
    process.exit(1)
  })
}
process.stdout.write(`test:loaded: ${cores} busy processes (pids ${load.map(busy => busy.pid).join(', ')}), one per core\n`)

const results: string[] = []
let failed = false
for (let run = 1; run <= runs; run++) {
  const startedAt = Date.now()
  const suite = spawn('npm', ['test'], { stdio: 'inherit' })
  const [code] = await once(suite, 'exit') as [number | null]
  const seconds = Math.round((Date.now() - startedAt) / 1000)
  results.push(`run ${run}/${runs}: ${code === 0 ? 'passed' : `FAILED (exit ${String(code)})`} in ${seconds} s`)
  process.stdout.write(`test:loaded: ${results.at(-1) as string}\n`)
  if (code !== 0) {
    failed = true
    break
  }
}
stopLoad()
process.stdout.write(`test:loaded, under ${cores} busy processes:\n${results.map(line => `  ${line}`).join('\n')}\n`)
process.exitCode = failed ? 1 : 0
