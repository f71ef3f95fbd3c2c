import t from 'tap'
import { createMemoryOutcomeStore } from '../../src/webhooks/memory-outcome-store.js'

const outcome = (requestId: string, body = '{"status":"OK","payload":{"seed":1}}') => ({ requestId, status: 'OK' as const, body, receivedAt: Date.now() })
const delivery = (timestamp: string) => ({ timestamp, replayWindowMs: 60_000 })

t.test('one outcome per job; a replay changes nothing; waiters are told', async t => {
  const store = createMemoryOutcomeStore({ maxBytes: 1024 * 1024, ttlMs: 60_000 })
  const waiting = store.wait('a', new AbortController().signal)
  t.equal(await store.record(outcome('a'), delivery('100')), 'recorded')
  t.match(await waiting, { requestId: 'a', status: 'OK' })
  t.equal(await store.record(outcome('a'), delivery('100')), 'replayed')
  t.equal(await store.record({ ...outcome('a'), status: 'ERROR' }, delivery('101')), 'known')
  t.match(await store.get('a'), { status: 'OK' }, 'the first outcome stays')

  const aborted = new AbortController()
  const given = store.wait('b', aborted.signal)
  aborted.abort(new Error('client left'))
  await t.rejects(given, { message: 'client left' })
})

t.test('an outcome too large for the bounds keeps its status only; a TTL of 0 keeps nothing', async t => {
  const small = createMemoryOutcomeStore({ maxBytes: 2048, ttlMs: 60_000 })
  await small.record(outcome('big', JSON.stringify({ payload: 'x'.repeat(4096) })), delivery('1'))
  const kept = await small.get('big')
  t.match(kept, { requestId: 'big', status: 'OK' })
  t.equal(kept?.body, undefined, 'no body')

  const off = createMemoryOutcomeStore({ maxBytes: 0, ttlMs: 60_000 })
  const waiting = off.wait('c', new AbortController().signal)
  await off.record(outcome('c'), delivery('1'))
  t.match(await waiting, { requestId: 'c' }, 'waiters are still told')
  t.equal(await off.get('c'), undefined)
})
