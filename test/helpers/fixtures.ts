/** The served models and inputs fal accepts, shared by the tests that drive the gateway. */
export const ILLUSION = 'fal-ai/illusion-diffusion'
export const LAYER = 'fal-ai/layer-diffusion'

export const illusionInput = { image_url: 'https://example.com/pattern.png', prompt: 'a medieval village' }
export const layerInput = { prompt: 'a glass bottle' }

/** A well-formed request id fal never issued. */
export const UNKNOWN_REQUEST_ID = '2b5f2d6e-9c1a-4f7e-8b3d-0a1c2e3f4a5b'
