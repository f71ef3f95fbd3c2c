/**
 * The forms, described as data (generated from the catalog by src/demo/model-forms.ts and served
 * as /demo/models.json): one entry per model input the page offers. Field names are the
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
  min?: number
  max?: number
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
