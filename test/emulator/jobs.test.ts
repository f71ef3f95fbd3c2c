import t from 'tap'
import { JobStore } from '../../src/emulator/jobs.js'
import { MODELS } from '../../src/emulator/models.js'

const model = MODELS.get('fal-ai/layer-diffusion')
if (model === undefined) throw new Error('layer-diffusion is not emulated')
const fields = { model, seed: 1, width: 1024, height: 1024, alpha: true }

t.test('state follows the clock: queued with a falling position, running with growing logs, completed', async t => {
  const jobs = new JobStore({ queueMs: 300, processingMs: 700 })
  const job = jobs.add(fields, 0)
  t.match(jobs.view(job, 0), { state: 'IN_QUEUE', queuePosition: 2, nextChangeAt: 100 })
  t.match(jobs.view(job, 150), { state: 'IN_QUEUE', queuePosition: 1 })
  t.match(jobs.view(job, 299), { state: 'IN_QUEUE', queuePosition: 0, nextChangeAt: 300 })
  t.match(jobs.view(job, 300), { state: 'IN_PROGRESS', logCount: 1, nextChangeAt: 400 })
  t.match(jobs.view(job, 650), { state: 'IN_PROGRESS', logCount: 4 })
  t.match(jobs.view(job, 1000), { state: 'COMPLETED', logCount: model.logs.length, cancelled: false, nextChangeAt: undefined })
})

t.test('a cancelled job is frozen as completed-with-cancel; a completed one cannot be cancelled', async t => {
  const jobs = new JobStore({ queueMs: 100, processingMs: 700 })
  const running = jobs.add(fields, 0)
  t.equal(jobs.cancel(running, 250), true)
  t.match(jobs.view(running, 5000), { state: 'COMPLETED', cancelled: true, logCount: 2 })
  const done = jobs.add(fields, 0)
  t.equal(jobs.cancel(done, 800), false)
  t.match(jobs.view(done, 900), { cancelled: false })
})

t.test('zero timings complete at once', async t => {
  const jobs = new JobStore({ queueMs: 0, processingMs: 0 })
  t.match(jobs.view(jobs.add(fields, 0), 0), { state: 'COMPLETED', cancelled: false })
})

t.test('memory stays bounded: the oldest jobs go beyond the cap or after an hour', async t => {
  const jobs = new JobStore({ queueMs: 10, processingMs: 10 }, 1000)
  const first = jobs.add(fields, 0)
  for (let i = 1; i < 5000; i++) jobs.add(fields, i)
  t.equal(jobs.size, 1000)
  t.equal(jobs.get(first.id), undefined)

  const late = jobs.add(fields, 2 * 60 * 60 * 1000)
  t.equal(jobs.size, 1, 'jobs older than an hour are gone')
  t.equal(jobs.get(late.id), late)
})
