import t from 'tap'
import { createClientKeyLookup, generateClientKey, hashClientKey } from '../../src/identity/client-keys.js'

t.test('hashClientKey is the hex SHA-256 of the key', async t => {
  t.equal(hashClientKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
})

t.test('generated keys are random and match their hash', async t => {
  const a = generateClientKey()
  const b = generateClientKey()
  t.not(a.key, b.key)
  t.match(a.key, /^gw_[\w-]{43}$/)
  t.equal(hashClientKey(a.key), a.sha256)
})

t.test('lookup finds the entry whose hash matches, revoked or not', async t => {
  const live = generateClientKey()
  const revoked = generateClientKey()
  const find = createClientKeyLookup([
    { id: 'live', sha256: live.sha256, tier: 'pro' },
    { id: 'gone', sha256: revoked.sha256, tier: 'pro', revoked: true }
  ])
  t.equal(find(live.key)?.id, 'live')
  t.equal(find(revoked.key)?.revoked, true)
  t.equal(find(live.sha256), undefined, 'the hash itself is not a key')
  t.equal(find(live.key + 'x'), undefined)
  t.equal(find(''), undefined)
  t.equal(find('x'.repeat(10_000)), undefined, 'any length is compared safely')
})
