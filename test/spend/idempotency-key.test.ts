import t from 'tap'
import { idempotencyScope, keyInUse, parseIdempotencyKey, requestFingerprint } from '../../src/spend/idempotency-key.js'

t.test('an Idempotency-Key is one value of 1–255 visible ASCII characters, bare or as a structured-field string', async t => {
  t.equal(parseIdempotencyKey(undefined), undefined)
  t.equal(parseIdempotencyKey('8e03978e-40d5-43e8-bc93-6894a57f9324'), '8e03978e-40d5-43e8-bc93-6894a57f9324', 'Stripe\'s bare form')
  t.equal(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"'), '8e03978e-40d5-43e8-bc93-6894a57f9324', 'the IETF draft\'s sf-string')
  t.equal(parseIdempotencyKey('"a \\"quoted\\" \\\\ key"'), 'a "quoted" \\ key')
  t.equal(parseIdempotencyKey('k'.repeat(255)), 'k'.repeat(255))
  for (const bad of ['', '   ', '""', 'k'.repeat(256), 'clé', 'tab\there', 'line\nbreak']) {
    t.throws(() => parseIdempotencyKey(bad), { code: 'IDEMPOTENCY_KEY_INVALID', statusCode: 400 }, JSON.stringify(bad))
  }
  t.throws(() => parseIdempotencyKey(['a', 'b']), { code: 'IDEMPOTENCY_KEY_INVALID' }, 'two headers')
})

t.test('keys are scoped by client and endpoint, and the scope has a fixed shape', async t => {
  const scope = idempotencyScope('key:acme', 'fal-ai/flux/dev', 'k1')
  t.match(scope, /^[0-9a-f]{64}$/)
  t.equal(idempotencyScope('key:acme', 'fal-ai/flux/dev', 'k1'), scope)
  t.not(idempotencyScope('key:other', 'fal-ai/flux/dev', 'k1'), scope, 'another client')
  t.not(idempotencyScope('key:acme', 'fal-ai/flux/schnell', 'k1'), scope, 'another endpoint')
  t.not(idempotencyScope('key:acme', 'fal-ai/flux/dev', 'k2'), scope, 'another key')
  t.not(idempotencyScope('key:a', 'b","c', 'k'), idempotencyScope('key:a","b', 'c', 'k'), 'no two parts can be spliced into the same scope')
})

t.test('the fingerprint does not depend on key order, only on what is asked', async t => {
  const a = requestFingerprint({ body: { prompt: 'a cat', image_size: { width: 1024, height: 768 }, num_images: 2 } })
  const b = requestFingerprint({ body: { num_images: 2, image_size: { height: 768, width: 1024 }, prompt: 'a cat' } })
  t.equal(a, b)
  t.not(requestFingerprint({ body: { prompt: 'a cat', image_size: { width: 1024, height: 768 }, num_images: 3 } }), a)
  t.not(requestFingerprint({ body: { prompt: 'a cat ' } }), requestFingerprint({ body: { prompt: 'a cat' } }))
  t.equal(requestFingerprint({ n: 1.0 }), requestFingerprint({ n: 1 }), 'numbers as JSON numbers (RFC 8785)')
  t.not(requestFingerprint({ body: {}, webhook: 'https://a.example/hook' }), requestFingerprint({ body: {} }))
})

t.test('409 says whether the first submit is still on its way or its outcome is unknown', async t => {
  t.match(keyInUse(false), { statusCode: 409, code: 'IDEMPOTENCY_KEY_IN_USE', message: /still on its way/ })
  t.match(keyInUse(true), { statusCode: 409, code: 'IDEMPOTENCY_KEY_IN_USE', message: /will not be started twice/ })
})
