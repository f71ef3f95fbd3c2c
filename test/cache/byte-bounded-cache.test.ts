import t from 'tap'
import { ByteBoundedCache, utf16Bytes } from '../../src/cache/byte-bounded-cache.js'

t.test('never holds more bytes than its bound, evicting the least recently used', async t => {
  const cache = new ByteBoundedCache<string>(10_000, utf16Bytes)
  const value = 'x'.repeat(1000)
  for (let i = 0; i < 50; i++) {
    cache.set(`k${i}`, value, 60_000)
    t.ok(cache.totalBytes <= 10_000, `within bound after ${i + 1} inserts`)
  }
  t.ok(cache.size < 50 && cache.size > 0, 'older entries were evicted')
  t.equal(cache.get('k49'), value, 'the newest entry is kept')
  t.equal(cache.get('k0'), undefined, 'the oldest entry is gone')
})

t.test('a read keeps an entry alive against eviction', async t => {
  const cache = new ByteBoundedCache<string>(3 * (2 * 1002 + 64), utf16Bytes)
  cache.set('a', 'x'.repeat(1000), 60_000)
  cache.set('b', 'x'.repeat(1000), 60_000)
  cache.set('c', 'x'.repeat(1000), 60_000)
  t.ok(cache.get('a'), 'a is read')
  cache.set('d', 'x'.repeat(1000), 60_000)
  t.ok(cache.get('a'), 'a survived')
  t.equal(cache.get('b'), undefined, 'b, least recently used, was evicted')
})

t.test('entries expire and values larger than the bound are not stored', async t => {
  const cache = new ByteBoundedCache<string>(1000, utf16Bytes)
  cache.set('short', 'v', 100, 0)
  t.equal(cache.get('short', 50), 'v')
  t.equal(cache.get('short', 100), undefined, 'expired at its deadline')
  cache.set('huge', 'x'.repeat(10_000), 60_000)
  t.equal(cache.get('huge'), undefined)
  t.equal(cache.totalBytes, 0)
})
