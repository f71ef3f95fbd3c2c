import t from 'tap'
import { DEFAULT_FALLBACK_UNITS, normaliseUnit, parseFallbackUnits } from '../../src/spend/price-units.js'
import { priceSubmit, type PricedEndpoint } from '../../src/spend/submit-price.js'
import { priceOutput } from '../../src/spend/output-price.js'
import { FLUX_DEV, ILLUSION, LAYER } from './fal-inputs.js'

const fallback = parseFallbackUnits(DEFAULT_FALLBACK_UNITS)

t.test('fal-ai/flux/dev at 0.025 USD per megapixel: each image in whole megapixels of 1024×1024, rounded up', async t => {
  // [input, hand-computed megapixels, micro-USD]
  const cases: Array<[Record<string, unknown>, number, number]> = [
    [{}, 1, 25_000], // fal's defaults: landscape_4_3 = 1024×768 = 0.75 MP → 1, one image
    [{ image_size: 'square_hd' }, 1, 25_000], // 1024×1024 = exactly 1 MP
    [{ image_size: 'square', num_images: 4 }, 4, 100_000], // 512×512 → 1 MP each
    [{ image_size: 'landscape_16_9', num_images: 3 }, 3, 75_000], // 1024×576 → 1 each
    [{ image_size: 'portrait_16_9', num_images: 2 }, 2, 50_000], // 576×1024 → 1 each
    [{ image_size: { width: 1536, height: 1024 }, num_images: 2 }, 4, 100_000], // 1.5 MP → 2 each
    [{ image_size: { width: 1440, height: 1440 } }, 2, 50_000], // 2,073,600 px = 1.98 MP → 2
    [{ image_size: { width: 2048, height: 2048 }, num_images: 4 }, 16, 400_000], // 4 MP each: $0.40
    [{ image_size: { width: 4096, height: 4096 }, num_images: 1 }, 16, 400_000], // 16 MP
    [{ image_size: { width: 1024 } }, 1, 25_000] // height from fal's ImageSize default, 512
  ]
  for (const [input, megapixels, micros] of cases) {
    t.match(priceSubmit(FLUX_DEV, input, fallback), { micros, quantity: megapixels, unit: 'megapixel', estimated: false }, JSON.stringify(input))
  }
})

t.test('fal-ai/flux/dev priced per image (fal\'s documented example answer) counts images only', async t => {
  const perImage: PricedEndpoint = { ...FLUX_DEV, price: { unitPriceMicros: 25_000, unit: 'image', currency: 'USD' } }
  t.match(priceSubmit(perImage, { image_size: { width: 2048, height: 2048 }, num_images: 4 }, fallback), { micros: 100_000, quantity: 4 })
  t.match(priceSubmit(perImage, {}, fallback), { micros: 25_000, quantity: 1, outputs: 1 })
})

t.test('the seed models at the stated prices', async t => {
  // layer-diffusion, 0.03 USD per image: no num_images in its schema, so one image.
  t.same(priceSubmit(LAYER, { prompt: 'a glass bottle' }, fallback), { micros: 30_000, unit: 'image', quantity: 1, outputs: 1, estimated: false })
  // illusion-diffusion, 0.00111 USD per compute second: the input cannot say how long; 30 s assumed.
  t.same(priceSubmit(ILLUSION, { prompt: 'a village', image_url: 'https://example.com/a.png' }, fallback),
    { micros: 33_300, unit: 'compute_second', quantity: 30, outputs: 1, estimated: true })
  // The endpoint's own fallback wins over the setting.
  t.match(priceSubmit({ ...ILLUSION, pricing: { fallbackUnits: 12 } }, {}, fallback), { micros: 13_320, quantity: 12 })
})

t.test('video: per second from the input\'s duration (numbers or fal\'s enum strings), per video by count', async t => {
  const kling: PricedEndpoint = {
    id: 'fal-ai/kling-video/v1.5/pro/image-to-video',
    input: { type: 'object', properties: { duration: { type: 'string', enum: ['5', '10'], default: '5' } } } as never,
    price: { unitPriceMicros: 100_000, unit: 'seconds', currency: 'USD' }
  }
  t.match(priceSubmit(kling, {}, fallback), { micros: 500_000, quantity: 5, estimated: false }, 'the schema default, "5"')
  t.match(priceSubmit(kling, { duration: '10' }, fallback), { micros: 1_000_000, quantity: 10 })
  t.match(priceSubmit(kling, { duration: 7.5 }, fallback), { micros: 750_000 })
  t.match(priceSubmit({ ...kling, input: { type: 'object', properties: {} } as never }, {}, fallback), { micros: 1_000_000, quantity: 10, estimated: true }, 'no duration: the fallback, 10 s')
  t.match(priceSubmit({ ...kling, pricing: { durationField: 'length' } }, { length: 3 }, fallback), { micros: 300_000 })

  const minimax: PricedEndpoint = { id: 'fal-ai/minimax/video-01', input: { type: 'object', properties: {} } as never, price: { unitPriceMicros: 500_000, unit: 'videos', currency: 'USD' } }
  t.match(priceSubmit(minimax, {}, fallback), { micros: 500_000, quantity: 1 })
})

t.test('units the input cannot give take the fallback; per request is one', async t => {
  const endpoint = (unit: string, unitPriceMicros: number): PricedEndpoint => ({ id: 'fal-ai/x', input: { type: 'object', properties: {} } as never, price: { unitPriceMicros, unit, currency: 'USD' } })
  t.match(priceSubmit(endpoint('1000 characters', 20_000), {}, fallback), { micros: 20_000, unit: 'thousand_characters', estimated: true })
  t.match(priceSubmit(endpoint('minutes', 30_000), {}, fallback), { micros: 30_000, unit: 'minute' })
  t.match(priceSubmit(endpoint('compute_seconds', 70), {}, fallback), { micros: 2_100, quantity: 30 }, '0.00007 × 30 s')
  t.match(priceSubmit(endpoint('request', 10_000), {}, fallback), { micros: 10_000, quantity: 1, estimated: false })
  t.match(priceSubmit(endpoint('tokens', 5), {}, fallback), { micros: 5, unit: 'unknown', quantity: 1 })
  t.match(priceSubmit(endpoint('compute seconds', 1_605), {}, parseFallbackUnits('compute seconds=2.5')), { micros: 4_013 }, '4012.5 rounds up to whole micro-USD')
  t.equal(priceSubmit({ id: 'fal-ai/x', input: { type: 'object', properties: {} } as never }, {}, fallback), undefined, 'no price, no figure')
  t.match(priceSubmit({ ...FLUX_DEV, input: { type: 'object', properties: {} } as never }, {}, fallback), { micros: 25_000, estimated: true }, 'megapixels without a size field: 1 MP per image assumed')
})

t.test('a price in another currency is refused rather than compared with USD budgets', async t => {
  t.throws(() => priceSubmit({ ...LAYER, price: { unitPriceMicros: 30_000, unit: 'image', currency: 'EUR' } }, {}, fallback), /USD/)
})

t.test('unit spellings fal uses map to one unit each', async t => {
  const spellings: Array<[string, string]> = [
    ['image', 'image'], ['images', 'image'], [' Images ', 'image'], ['megapixels', 'megapixel'], ['seconds', 'second'],
    ['videos', 'video'], ['compute seconds', 'compute_second'], ['compute_seconds', 'compute_second'],
    ['1000 characters', 'thousand_characters'], ['minutes', 'minute'], ['request', 'request'], ['GPU hours', 'unknown']
  ]
  for (const [spelling, unit] of spellings) t.equal(normaliseUnit(spelling), unit, spelling)
  t.throws(() => parseFallbackUnits('compute seconds'), /unit=quantity/)
  t.throws(() => parseFallbackUnits('parsecs=3'), /not a unit/)
  t.same(parseFallbackUnits(' compute_seconds = 45 , other=2'), { compute_second: 45, unknown: 2 })
})

t.test('completion: the output actually produced settles the price', async t => {
  const estimate = priceSubmit(FLUX_DEV, { image_size: { width: 2048, height: 2048 }, num_images: 4 }, fallback)!
  const image = (width: number, height: number) => ({ url: 'https://fal.media/x.jpg', width, height })
  t.equal(priceOutput(FLUX_DEV, { images: [image(2048, 2048), image(2048, 2048), image(2048, 2048), image(2048, 2048)] }, estimate), 400_000)
  t.equal(priceOutput(FLUX_DEV, { images: [image(2048, 2048), image(1024, 1024)] }, estimate), 125_000, 'two images returned: 4 MP + 1 MP')
  t.equal(priceOutput(FLUX_DEV, { images: [{ url: 'https://fal.media/x.jpg' }] }, estimate), 100_000, 'an image without a size counts as estimated: 4 MP')
  t.equal(priceOutput(FLUX_DEV, { images: [] }, estimate), 0)
  t.equal(priceOutput(FLUX_DEV, { seed: 1 }, estimate), 400_000, 'an output that says nothing keeps the estimate')

  const layer = priceSubmit(LAYER, {}, fallback)!
  t.equal(priceOutput(LAYER, { image: image(1024, 1024), seed: 3 }, layer), 30_000)
  const illusion = priceSubmit(ILLUSION, {}, fallback)!
  t.equal(priceOutput(ILLUSION, { image: image(1024, 1024) }, illusion), 33_300, 'compute seconds: the output cannot say, the estimate stands')
})
