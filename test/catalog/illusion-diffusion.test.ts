import t from 'tap'
import { ILLUSION, illusionInput, submit, startQueueGateway } from '../routes/queue/queue-client.js'
import { UNLIMITED, expectRefused } from './refusals.js'

const refusals: Array<[string, unknown, Array<string | number>]> = [
  ['image_url missing', { prompt: 'a village' }, ['body', 'image_url']],
  ['prompt missing', { image_url: illusionInput.image_url }, ['body', 'prompt']],
  ['prompt not a string', { ...illusionInput, prompt: 42 }, ['body', 'prompt']],
  ['image_url not a string', { ...illusionInput, image_url: 42 }, ['body', 'image_url']],
  ['image_url over ftp:', { ...illusionInput, image_url: 'ftp://example.com/pattern.png' }, ['body', 'image_url']],
  ['image_url as javascript:', { ...illusionInput, image_url: 'javascript:alert(1)' }, ['body', 'image_url']],
  ['image_url as plain text', { ...illusionInput, image_url: 'a spiral pattern' }, ['body', 'image_url']],
  ['image_url as a data URI that is not an image', { ...illusionInput, image_url: 'data:text/plain;base64,aGVsbG8=' }, ['body', 'image_url']],
  ['image_size an unknown preset', { ...illusionInput, image_size: 'huge' }, ['body', 'image_size']],
  ['image_size a number', { ...illusionInput, image_size: 512 }, ['body', 'image_size']],
  ['width not a multiple of 8', { ...illusionInput, image_size: { width: 1001, height: 512 } }, ['body', 'image_size', 'width']],
  ['width 0', { ...illusionInput, image_size: { width: 0, height: 512 } }, ['body', 'image_size', 'width']],
  ['width negative', { ...illusionInput, image_size: { width: -512, height: 512 } }, ['body', 'image_size', 'width']],
  ['width above 14142', { ...illusionInput, image_size: { width: 14144, height: 512 } }, ['body', 'image_size', 'width']],
  ['height not an integer', { ...illusionInput, image_size: { width: 512, height: 511.5 } }, ['body', 'image_size', 'height']],
  ['height a string', { ...illusionInput, image_size: { width: 512, height: '512' } }, ['body', 'image_size', 'height']],
  ['guidance_scale 0 (fal: > 0)', { ...illusionInput, guidance_scale: 0 }, ['body', 'guidance_scale']],
  ['guidance_scale above 50', { ...illusionInput, guidance_scale: 50.5 }, ['body', 'guidance_scale']],
  ['num_inference_steps above 80', { ...illusionInput, num_inference_steps: 81 }, ['body', 'num_inference_steps']],
  ['num_inference_steps negative', { ...illusionInput, num_inference_steps: -1 }, ['body', 'num_inference_steps']],
  ['control_guidance_start above 1', { ...illusionInput, control_guidance_start: 1.01 }, ['body', 'control_guidance_start']],
  ['control_guidance_end below 0', { ...illusionInput, control_guidance_end: -0.5 }, ['body', 'control_guidance_end']],
  ['an extra field inside image_size', { ...illusionInput, image_size: { width: 512, height: 512, depth: 3 } }, ['body', 'image_size', 'depth']],
  ['an extra top-level field', { ...illusionInput, strength: 0.5 }, ['body', 'strength']],
  ['scheduler outside its enum', { ...illusionInput, scheduler: 'DDIM' }, ['body', 'scheduler']],
  ['num_inference_steps a float', { ...illusionInput, num_inference_steps: 20.5 }, ['body', 'num_inference_steps']],
  ['seed a string', { ...illusionInput, seed: '42' }, ['body', 'seed']],
  ['guidance_scale a string', { ...illusionInput, guidance_scale: 'high' }, ['body', 'guidance_scale']],
  ['the body an array', [illusionInput], ['body']],
  ['the body a string', 'a medieval village', ['body']],
  ['the body null', null, ['body']]
]

t.test('each schema rule of Illusion Diffusion answers 422 with the field, and fal receives nothing', async t => {
  const gateway = await startQueueGateway(t, { env: UNLIMITED })
  for (const [rule, input, loc] of refusals) {
    await expectRefused(t, await submit(gateway, ILLUSION, input), rule, loc)
  }
  t.equal(gateway.emulator.callsOf('submit').length, 0, 'the emulator received no submit')
})

t.test('valid inputs reach fal with the documented defaults filled in', async t => {
  const gateway = await startQueueGateway(t, { env: UNLIMITED })
  const dataUri = 'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=='
  const accepted = [
    illusionInput,
    { ...illusionInput, image_url: 'http://example.com/pattern.png' },
    { ...illusionInput, image_url: dataUri },
    { ...illusionInput, image_size: { width: 512, height: 768 }, scheduler: 'DPM++ Karras SDE', seed: 7 }
  ]
  for (const input of accepted) {
    const answer = await submit(gateway, ILLUSION, input)
    t.equal(answer.status, 202, `accepted: ${JSON.stringify(input).slice(0, 80)}`)
  }
  const bodies = gateway.emulator.callsOf('submit').map(call => call.body)
  t.equal(bodies.length, accepted.length, 'each valid submit reached fal once')
  t.same(bodies[0], {
    ...illusionInput,
    negative_prompt: '',
    guidance_scale: 7.5,
    controlnet_conditioning_scale: 1,
    control_guidance_start: 0,
    control_guidance_end: 1,
    scheduler: 'Euler',
    num_inference_steps: 40,
    image_size: 'square_hd'
  }, 'fal received the input with the defaults of fal\'s document')
  t.match(bodies[3], { image_size: { width: 512, height: 768 }, scheduler: 'DPM++ Karras SDE', seed: 7 }, 'given values are kept')
})
