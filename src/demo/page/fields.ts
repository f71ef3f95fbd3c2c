/**
 * The forms, described as data: one entry per model input the page offers. Field names are the
 * input's JSON names (dotted for nested ones), which is also how validation errors find them.
 */

interface BaseField {
  name: string
  label: string
  hint?: string
}

export interface TextField extends BaseField {
  kind: 'text'
  value?: string
  multiline?: boolean
}

export interface NumberField extends BaseField {
  kind: 'number'
  value?: number
  step?: number
}

export interface SelectField extends BaseField {
  kind: 'select'
  options: readonly string[]
  value: string
}

export interface CheckboxField extends BaseField {
  kind: 'checkbox'
  value: boolean
}

/** A file picked from disk (uploaded through fal storage) or a URL. */
export interface ImageSourceField extends BaseField {
  kind: 'image-source'
}

/** A preset name or a custom width and height. */
export interface ImageSizeField extends BaseField {
  kind: 'image-size'
  presets: readonly string[]
  value: string
}

export type Field = TextField | NumberField | SelectField | CheckboxField | ImageSourceField | ImageSizeField

export interface ModelForm {
  id: string
  slug: string
  title: string
  blurb: string
  /** Show the result on a checkerboard: the model returns transparent PNGs. */
  transparent: boolean
  fields: Field[]
}

const IMAGE_SIZE_PRESETS = ['square_hd', 'square', 'portrait_4_3', 'portrait_16_9', 'landscape_4_3', 'landscape_16_9'] as const

export const MODEL_FORMS: ModelForm[] = [
  {
    id: 'fal-ai/illusion-diffusion',
    slug: 'illusion-diffusion',
    title: 'Illusion Diffusion',
    blurb: 'Hides a pattern image inside a generated scene.',
    transparent: false,
    fields: [
      { kind: 'image-source', name: 'image_url', label: 'Pattern image' },
      { kind: 'text', name: 'prompt', label: 'Prompt', multiline: true, value: 'a medieval village seen from above, autumn, golden hour' },
      { kind: 'text', name: 'negative_prompt', label: 'Negative prompt', value: 'blurry, low resolution' },
      { kind: 'number', name: 'guidance_scale', label: 'Guidance scale', value: 7.5, step: 0.5 },
      { kind: 'number', name: 'controlnet_conditioning_scale', label: 'ControlNet scale', value: 1, step: 0.1 },
      { kind: 'number', name: 'control_guidance_start', label: 'Control start', value: 0, step: 0.05 },
      { kind: 'number', name: 'control_guidance_end', label: 'Control end', value: 1, step: 0.05 },
      { kind: 'number', name: 'num_inference_steps', label: 'Inference steps', value: 40, step: 1 },
      { kind: 'number', name: 'seed', label: 'Seed', hint: 'empty for random', step: 1 },
      { kind: 'select', name: 'scheduler', label: 'Scheduler', options: ['Euler', 'DPM++ Karras SDE'], value: 'Euler' },
      { kind: 'image-size', name: 'image_size', label: 'Image size', presets: IMAGE_SIZE_PRESETS, value: 'square_hd', hint: 'custom sides: multiples of 8' }
    ]
  },
  {
    id: 'fal-ai/layer-diffusion',
    slug: 'layer-diffusion',
    title: 'Layer Diffusion XL',
    blurb: 'Generates an image with a transparent background.',
    transparent: true,
    fields: [
      { kind: 'text', name: 'prompt', label: 'Prompt', multiline: true, value: 'a glass teapot with a red lid, studio light' },
      { kind: 'text', name: 'negative_prompt', label: 'Negative prompt', value: 'text, watermark' },
      { kind: 'number', name: 'guidance_scale', label: 'Guidance scale', value: 8, step: 0.5 },
      { kind: 'number', name: 'num_inference_steps', label: 'Inference steps', value: 20, step: 1 },
      { kind: 'number', name: 'seed', label: 'Seed', hint: 'empty for random', step: 1 },
      { kind: 'checkbox', name: 'enable_safety_checker', label: 'Safety checker', value: true }
    ]
  }
]
