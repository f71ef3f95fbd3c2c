import t from 'tap'
import { createSingleFlight } from '../../src/cache/single-flight.js'
import type { Departure } from '../../src/upstream/departure.js'

t.test('concurrent callers of one key share one call; later callers start a new one', async t => {
  const shared = createSingleFlight<number>()
  let calls = 0
  const slow = async () => {
    calls++
    await new Promise(resolve => setTimeout(resolve, 20))
    return calls
  }
  const answers = await Promise.all(Array.from({ length: 25 }, () => shared('job', slow)))
  t.equal(calls, 1)
  t.same(new Set(answers), new Set([1]))
  await shared('job', slow)
  t.equal(calls, 2, 'a call after the first settled is a new call')
})

t.test('the shared call is aborted only when every caller has left', async t => {
  const shared = createSingleFlight<string>()
  let aborted = false
  const hang = (signal: Departure) => new Promise<string>((_resolve, reject) => {
    signal.addEventListener('abort', () => {
      aborted = true
      reject(new Error('aborted'))
    })
  })
  const first = new AbortController()
  const second = new AbortController()
  const answers = [shared('job', hang, first.signal), shared('job', hang, second.signal)]
  answers.forEach(answer => { answer.catch(() => {}) })
  first.abort()
  await new Promise(resolve => setTimeout(resolve, 10))
  t.notOk(aborted, 'one caller left, the other still waits')
  second.abort()
  await t.rejects(answers[1] as Promise<string>)
  t.ok(aborted, 'the last caller left: the call is aborted')
})

t.test('a failure is shared too, and not remembered', async t => {
  const shared = createSingleFlight<number>()
  let calls = 0
  const failing = async () => {
    calls++
    throw new Error('fal down')
  }
  const results = await Promise.allSettled([shared('k', failing), shared('k', failing)])
  t.same(results.map(r => r.status), ['rejected', 'rejected'])
  t.equal(calls, 1)
  await t.rejects(shared('k', failing))
  t.equal(calls, 2)
})

t.test('a caller arriving after the last one left starts a fresh call instead of joining the aborted one', async t => {
  const shared = createSingleFlight<string>()
  let calls = 0
  const slow = (signal: Departure) => new Promise<string>((resolve, reject) => {
    calls++
    const timer = setTimeout(() => { resolve(`answer ${calls}`) }, 50)
    signal.addEventListener('abort', () => {
      clearTimeout(timer)
      reject(new Error('aborted'))
    })
  })
  const leaving = new AbortController()
  const first = shared('job', slow, leaving.signal)
  first.catch(() => {})
  leaving.abort()
  const second = await shared('job', slow, new AbortController().signal)
  t.equal(second, 'answer 2', 'the newcomer got an answer of its own')
  t.equal(calls, 2)
})
