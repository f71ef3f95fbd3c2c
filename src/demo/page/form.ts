import type { ValidationErrorInfo } from '@fal-ai/client'
import type { Field, ImageSizeField, ImageSourceField, ModelForm } from './fields.js'
import { h } from './dom.js'

export interface FormValues {
  input: Record<string, unknown>
  /** A pattern picked from disk: uploaded first, its URL then becomes `fileField`'s value. */
  file?: File
  fileField?: string
}

export interface RenderedForm {
  element: HTMLFormElement
  read (): FormValues
  /** Shows each error next to its field; returns those no field claims. */
  showFieldErrors (errors: ValidationErrorInfo[]): ValidationErrorInfo[]
  clearErrors (): void
}

const CUSTOM_SIZE = 'custom'

export function renderForm (model: ModelForm): RenderedForm {
  const idOf = (name: string) => `${model.slug}-${name.replace(/\./g, '-')}`
  const readers: Array<(values: FormValues) => void> = []

  const element = h('form', { class: 'model-form', novalidate: true, 'aria-describedby': `${model.slug}-status` })
  for (const field of model.fields) {
    element.append(renderField(field, idOf, readers))
  }
  element.append(h('div', { class: 'actions' }, h('button', { type: 'submit' }, `Run ${model.title}`)))

  const fieldFor = (loc: ValidationErrorInfo['loc']): HTMLElement | undefined => {
    const path = (loc[0] === 'body' ? loc.slice(1) : loc).map(String)
    for (let length = path.length; length > 0; length--) {
      const found = element.querySelector<HTMLElement>(`[data-field="${CSS.escape(path.slice(0, length).join('.'))}"]`)
      if (found !== null) return found
    }
    return undefined
  }

  return {
    element,
    read () {
      const values: FormValues = { input: {} }
      for (const read of readers) read(values)
      return values
    },
    showFieldErrors (errors) {
      const unclaimed: ValidationErrorInfo[] = []
      for (const error of errors) {
        const field = fieldFor(error.loc)
        const message = field?.querySelector<HTMLElement>(':scope > .field-error')
        if (field === undefined || message === null || message === undefined) {
          unclaimed.push(error)
          continue
        }
        message.textContent = message.hidden ? error.msg : `${message.textContent ?? ''}; ${error.msg}`
        message.hidden = false
        field.classList.add('invalid')
        field.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true')
      }
      element.querySelector<HTMLElement>('.invalid input, .invalid select, .invalid textarea')?.focus()
      return unclaimed
    },
    clearErrors () {
      for (const message of element.querySelectorAll<HTMLElement>('.field-error')) {
        message.hidden = true
        message.textContent = ''
      }
      for (const field of element.querySelectorAll('.invalid')) field.classList.remove('invalid')
      for (const control of element.querySelectorAll('[aria-invalid]')) control.removeAttribute('aria-invalid')
    }
  }
}

type Readers = Array<(values: FormValues) => void>

function fieldBox (name: string, id: string, label: string, hint: string | undefined, ...controls: Node[]): HTMLElement {
  const errorId = `${id}-error`
  for (const control of controls) {
    if (control instanceof HTMLElement && control.id === id) control.setAttribute('aria-describedby', errorId)
  }
  return h('div', { class: 'field', 'data-field': name },
    h('label', { for: id }, label, hint === undefined ? undefined : h('span', { class: 'hint' }, hint)),
    ...controls,
    h('p', { class: 'field-error', id: errorId, hidden: true, role: 'alert' })
  )
}

function numberValue (input: HTMLInputElement): number | undefined {
  // An empty box (or one the browser cannot parse) means "use the model's default".
  return input.value.trim() === '' ? undefined : Number(input.value)
}

function renderField (field: Field, idOf: (name: string) => string, readers: Readers): HTMLElement {
  const id = idOf(field.name)
  switch (field.kind) {
    case 'text': {
      const control = field.multiline === true
        ? h('textarea', { id, name: field.name, rows: '3' })
        : h('input', { id, name: field.name, type: 'text' })
      control.value = field.value ?? ''
      readers.push(values => { values.input[field.name] = control.value })
      return fieldBox(field.name, id, field.label, field.hint, control)
    }
    case 'number': {
      const bounds = { ...(field.min === undefined ? {} : { min: String(field.min) }), ...(field.max === undefined ? {} : { max: String(field.max) }) }
      const control = h('input', { id, name: field.name, type: 'number', step: String(field.step ?? 'any'), inputmode: 'decimal', ...bounds })
      if (field.value !== undefined) control.value = String(field.value)
      readers.push(values => {
        const value = numberValue(control)
        if (value !== undefined) values.input[field.name] = value
      })
      return fieldBox(field.name, id, field.label, field.hint, control)
    }
    case 'select': {
      const control = h('select', { id, name: field.name }, ...field.options.map(option => h('option', { value: option }, option)))
      control.value = field.value
      readers.push(values => { values.input[field.name] = control.value })
      return fieldBox(field.name, id, field.label, field.hint, control)
    }
    case 'checkbox': {
      const control = h('input', { id, name: field.name, type: 'checkbox' })
      control.checked = field.value
      readers.push(values => { values.input[field.name] = control.checked })
      const box = fieldBox(field.name, id, field.label, field.hint, control)
      box.classList.add('checkbox')
      return box
    }
    case 'image-source':
      return renderImageSource(field, id, readers)
    case 'image-size':
      return renderImageSize(field, idOf, readers)
  }
}

function renderImageSource (field: ImageSourceField, id: string, readers: Readers): HTMLElement {
  const file = h('input', { id, name: `${field.name}_file`, type: 'file', accept: 'image/*' })
  const url = h('input', { id: `${id}-url`, name: field.name, type: 'url', placeholder: 'https://…/pattern.png', 'aria-label': `${field.label} URL` })
  const preview = h('img', { class: 'preview', alt: 'Picked pattern', hidden: true })

  file.addEventListener('change', () => {
    if (preview.src !== '') URL.revokeObjectURL(preview.src)
    const picked = file.files?.[0]
    preview.hidden = picked === undefined
    preview.src = picked === undefined ? '' : URL.createObjectURL(picked)
  })
  readers.push(values => {
    const picked = file.files?.[0]
    if (picked !== undefined) {
      values.file = picked
      values.fileField = field.name
    } else if (url.value.trim() !== '') {
      values.input[field.name] = url.value.trim()
    }
  })
  const box = fieldBox(field.name, id, field.label, 'a file from disk, or a URL', h('div', { class: 'image-source' }, file, h('span', { class: 'or' }, 'or'), url), preview)
  box.classList.add('wide')
  return box
}

function renderImageSize (field: ImageSizeField, idOf: (name: string) => string, readers: Readers): HTMLElement {
  const id = idOf(field.name)
  const preset = h('select', { id, name: field.name },
    ...field.presets.map(name => h('option', { value: name }, name)),
    h('option', { value: CUSTOM_SIZE }, 'custom…'))
  preset.value = field.value

  const side = (name: 'width' | 'height', label: string) => {
    const control = h('input', { id: idOf(`${field.name}.${name}`), name: `${field.name}.${name}`, type: 'number', step: '8', value: '512' })
    return { control, box: fieldBox(`${field.name}.${name}`, control.id, label, undefined, control) }
  }
  const width = side('width', 'Width')
  const height = side('height', 'Height')
  const custom = h('div', { class: 'custom-size', hidden: true }, width.box, height.box)

  preset.addEventListener('change', () => { custom.hidden = preset.value !== CUSTOM_SIZE })
  readers.push(values => {
    if (preset.value !== CUSTOM_SIZE) {
      values.input[field.name] = preset.value
      return
    }
    const size: Record<string, number> = {}
    const w = numberValue(width.control)
    const hgt = numberValue(height.control)
    if (w !== undefined) size.width = w
    if (hgt !== undefined) size.height = hgt
    values.input[field.name] = size
  })
  const box = fieldBox(field.name, id, field.label, field.hint, preset, custom)
  box.classList.add('wide')
  return box
}
