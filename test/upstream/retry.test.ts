import t from 'tap'
import { backoffMs, isRetryable, withRetries } from '../../src/upstream/retry.js'
import { FalFailure } from '../../src/upstream/fal-failure.js'

const options = { retries: 3, baseDelayMs: 100, maxDelayMs: 1000 }

t.test('only busy, gateway and connection failures are worth a second attempt', async t => {
  for (const status of [429, 502, 503, 504]) t.ok(isRetryable(new FalFailure({ kind: 'answered', status })), `fal ${status}`)
  for (const status of [400, 401, 403, 404, 422, 500]) t.notOk(isRetryable(new FalFailure({ kind: 'answered', status })), `not fal ${status}`)
  t.ok(isRetryable(new FalFailure({ kind: 'unreachable' })), 'connection refused or reset')
  t.notOk(isRetryable(new FalFailure({ kind: 'timeout' })), 'a timeout has used the deadline up')
  t.notOk(isRetryable(new FalFailure({ kind: 'malformed' })), 'garbage is not a transient failure')
  t.notOk(isRetryable(new Error('client disconnected')), 'the client leaving')
})

t.test('backoff doubles, is jittered between half and all of it, and is capped', async t => {
  t.equal(backoffMs(0, options, undefined, () => 0), 50)
  t.equal(backoffMs(0, options, undefined, () => 1), 100)
  t.equal(backoffMs(2, options, undefined, () => 1), 400)
  t.equal(backoffMs(10, options, undefined, () => 1), 1000, 'capped at maxDelayMs')
  t.equal(backoffMs(0, options, 1, () => 0), 1000, "fal's Retry-After is honoured when it is longer")
  t.equal(backoffMs(0, options, 2, () => 0), undefined, 'a Retry-After past the cap gives up at once')
})

t.test('retries until success, within the retry budget', async t => {
  let attempts = 0
  const answer = await withRetries(async () => {
    attempts++
    if (attempts < 3) throw new FalFailure({ kind: 'answered', status: 503 })
    return 'ok'
  }, { ...options, baseDelayMs: 5 }, Date.now() + 5000, new AbortController().signal)
  t.equal(answer, 'ok')
  t.equal(attempts, 3)

  attempts = 0
  await t.rejects(withRetries(async () => {
    attempts++
    throw new FalFailure({ kind: 'unreachable' })
  }, { ...options, baseDelayMs: 5 }, Date.now() + 5000, new AbortController().signal), { message: 'fal could not be reached' })
  t.equal(attempts, 4, 'one attempt and three retries, then the last failure')
})

t.test('a wait that would outlast the deadline is not started', async t => {
  let attempts = 0
  const started = Date.now()
  await t.rejects(withRetries(async () => {
    attempts++
    throw new FalFailure({ kind: 'answered', status: 502 })
  }, { retries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, Date.now() + 300, new AbortController().signal), { message: 'fal answered 502' })
  t.equal(attempts, 1, 'no retry when the backoff ends after the deadline')
  // A backoff of 30 to 60 s was not waited out: any bound well below it, generous for busy machines.
  t.ok(Date.now() - started < 10_000, 'the failure is reported at once')
})

t.test('the caller leaving stops the backoff', async t => {
  const controller = new AbortController()
  const reason = new Error('client disconnected')
  setTimeout(() => { controller.abort(reason) }, 50)
  const started = Date.now()
  await t.rejects(withRetries(async () => {
    throw new FalFailure({ kind: 'answered', status: 503 })
  }, { retries: 5, baseDelayMs: 60_000, maxDelayMs: 60_000 }, Date.now() + 600_000, controller.signal), reason)
  t.ok(Date.now() - started < 10_000, 'gave up as soon as the client left, not after the 30 to 60 s backoff')
})
