import t from 'tap'
import { LAYER, layerInput, submit, startQueueGateway } from '../routes/queue/queue-client.js'
import { UNLIMITED, expectRefused } from './refusals.js'

const refusals: Array<[string, unknown, Array<string | number>]> = [
  ['prompt not a string', { prompt: 5 }, ['body', 'prompt']],
  ['negative_prompt not a string', { ...layerInput, negative_prompt: ['text'] }, ['body', 'negative_prompt']],
  ['enable_safety_checker a string', { ...layerInput, enable_safety_checker: 'false' }, ['body', 'enable_safety_checker']],
  ['num_inference_steps a float', { ...layerInput, num_inference_steps: 1.5 }, ['body', 'num_inference_steps']],
  ['seed a string', { ...layerInput, seed: '1' }, ['body', 'seed']],
  ['guidance_scale a boolean', { ...layerInput, guidance_scale: true }, ['body', 'guidance_scale']],
  ['an extra top-level field', { ...layerInput, image_url: 'https://example.com/a.png' }, ['body', 'image_url']],
  ['guidance_scale above 20', { ...layerInput, guidance_scale: 20.5 }, ['body', 'guidance_scale']],
  ['guidance_scale negative', { ...layerInput, guidance_scale: -1 }, ['body', 'guidance_scale']],
  ['num_inference_steps below 10', { ...layerInput, num_inference_steps: 9 }, ['body', 'num_inference_steps']],
  ['num_inference_steps above 40', { ...layerInput, num_inference_steps: 41 }, ['body', 'num_inference_steps']],
  ['the body an array', [], ['body']],
  ['the body a string', 'a glass bottle', ['body']],
  ['the body null', null, ['body']]
]

t.test('each schema rule of Layer Diffusion answers 422 with the field, and fal receives nothing', async t => {
  const gateway = await startQueueGateway(t, { env: UNLIMITED })
  for (const [rule, input, loc] of refusals) {
    await expectRefused(t, await submit(gateway, LAYER, input), rule, loc)
  }
  t.equal(gateway.emulator.callsOf('submit').length, 0, 'the emulator received no submit')
})

t.test('an empty input is valid and reaches fal with the documented defaults', async t => {
  const gateway = await startQueueGateway(t, { env: UNLIMITED })
  t.equal((await submit(gateway, LAYER, {})).status, 202)
  t.equal((await submit(gateway, LAYER, { ...layerInput, enable_safety_checker: false, seed: 3 })).status, 202)
  const bodies = gateway.emulator.callsOf('submit').map(call => call.body)
  t.same(bodies[0], {
    prompt: '',
    negative_prompt: 'text, watermark',
    guidance_scale: 8,
    num_inference_steps: 20,
    enable_safety_checker: true
  }, 'fal received the defaults of the model page')
  t.match(bodies[1], { prompt: layerInput.prompt, enable_safety_checker: false, seed: 3 }, 'given values are kept')
})
