import t from 'tap'
import { JobStore } from '../../src/emulator/jobs.js'
import { loadEmulatedModels } from '../../src/emulator/models.js'

const model = loadEmulatedModels().get('fal-ai/layer-diffusion')
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

t.test('a job held IN_QUEUE waits at the head of the queue until released, then runs its usual time', async t => {
  const jobs = new JobStore({ queueMs: 300, processingMs: 700 })
  t.equal(jobs.hold({ phase: 'IN_QUEUE' }, 0), 'held', 'new jobs are held')
  const job = jobs.add(fields, 0)
  t.equal(jobs.completesAt(job), Infinity, 'no completion time while held')
  t.match(jobs.view(job, 150), { state: 'IN_QUEUE', queuePosition: 1 }, 'the position still counts down')
  t.match(jobs.view(job, 299), { state: 'IN_QUEUE', queuePosition: 0, nextChangeAt: undefined }, 'at the head, with no change in sight')
  t.match(jobs.view(job, 60_000), { state: 'IN_QUEUE', queuePosition: 0, nextChangeAt: undefined }, 'a minute later, still queued')
  jobs.release({}, 60_000)
  t.same(jobs.holds, { newJobs: [], jobs: [] }, 'nothing is held after the release')
  t.match(jobs.view(job, 60_000), { state: 'IN_PROGRESS', logCount: 1 }, 'released: it starts at once')
  t.equal(jobs.logTime(job, 0), 60_000, 'its first log line is stamped with the release time')
  t.equal(jobs.completesAt(job), 60_700, 'and it completes after the usual processing time')
  t.match(jobs.view(job, 60_700), { state: 'COMPLETED', cancelled: false })
})

t.test('a job held IN_PROGRESS emits every log line, then waits until released', async t => {
  const jobs = new JobStore({ queueMs: 300, processingMs: 700 })
  const job = jobs.add(fields, 0)
  t.equal(jobs.hold({ phase: 'IN_PROGRESS', requestId: job.id }, 100), 'held', 'one queued job is held')
  t.match(jobs.view(job, 500), { state: 'IN_PROGRESS', logCount: 3 })
  t.match(jobs.view(job, 30_000), { state: 'IN_PROGRESS', logCount: model.logs.length, nextChangeAt: undefined }, 'all logs out, still running')
  t.same(jobs.holds, { newJobs: [], jobs: [{ requestId: job.id, phases: ['IN_PROGRESS'] }] })
  jobs.release({ phase: 'IN_QUEUE', requestId: job.id }, 30_000)
  t.match(jobs.view(job, 30_000), { state: 'IN_PROGRESS' }, 'releasing another phase changes nothing')
  jobs.release({ phase: 'IN_PROGRESS', requestId: job.id }, 30_000)
  t.match(jobs.view(job, 30_000), { state: 'COMPLETED', logCount: model.logs.length }, 'released at the end of processing: completed at once')
  t.equal(jobs.logTime(job, 0), 300, 'its log lines keep their times')
})

t.test('holds on both phases are released one after the other', async t => {
  const jobs = new JobStore({ queueMs: 300, processingMs: 700 })
  jobs.hold({ phase: 'IN_QUEUE' }, 0)
  jobs.hold({ phase: 'IN_PROGRESS' }, 0)
  const job = jobs.add(fields, 0)
  t.same(jobs.holds.jobs, [{ requestId: job.id, phases: ['IN_QUEUE', 'IN_PROGRESS'] }])
  jobs.release({ phase: 'IN_QUEUE' }, 5000)
  t.match(jobs.view(job, 5000), { state: 'IN_PROGRESS', logCount: 1 })
  t.match(jobs.view(job, 9000), { state: 'IN_PROGRESS', logCount: model.logs.length, nextChangeAt: undefined }, 'held at the end of processing')
  t.same(jobs.holds.newJobs, ['IN_PROGRESS'], 'new jobs are still held in progress')
  jobs.release({ phase: 'IN_PROGRESS' }, 9000)
  t.match(jobs.view(job, 9000), { state: 'COMPLETED' })
})

t.test('a hold comes too late for a job that has left the phase; an unknown job is not found', async t => {
  const jobs = new JobStore({ queueMs: 100, processingMs: 700 })
  const job = jobs.add(fields, 0)
  t.equal(jobs.hold({ phase: 'IN_QUEUE', requestId: job.id }, 200), 'left-phase')
  t.equal(jobs.hold({ phase: 'IN_PROGRESS', requestId: job.id }, 900), 'left-phase')
  t.equal(jobs.hold({ phase: 'IN_QUEUE', requestId: 'no-such-job' }, 0), 'not-found')
  t.match(jobs.view(job, 900), { state: 'COMPLETED' })
})

t.test('a held job can be cancelled, and is then no longer listed as held', async t => {
  const jobs = new JobStore({ queueMs: 100, processingMs: 700 })
  jobs.hold({ phase: 'IN_QUEUE' }, 0)
  const job = jobs.add(fields, 0)
  t.equal(jobs.cancel(job, 10_000), true)
  t.match(jobs.view(job, 20_000), { state: 'COMPLETED', cancelled: true, logCount: 0 })
  t.same(jobs.holds.jobs, [])
})

t.test('listeners hear when a job\'s completion time moves', async t => {
  const jobs = new JobStore({ queueMs: 100, processingMs: 700 })
  const job = jobs.add(fields, 0)
  const heard: number[] = []
  jobs.onTimelineChange(changed => { heard.push(jobs.completesAt(changed)) })
  jobs.hold({ phase: 'IN_QUEUE', requestId: job.id }, 50)
  jobs.release({ requestId: job.id }, 1000)
  t.same(heard, [Infinity, 1700], 'held: no completion time; released at 1000: completes at 1700')
})

t.test('zero timings: a held job waits all the same', async t => {
  const jobs = new JobStore({ queueMs: 0, processingMs: 0 })
  jobs.hold({ phase: 'IN_PROGRESS' }, 0)
  const job = jobs.add(fields, 0)
  t.match(jobs.view(job, 0), { state: 'IN_PROGRESS', logCount: model.logs.length })
  jobs.release({}, 10)
  t.match(jobs.view(job, 10), { state: 'COMPLETED' })
})
