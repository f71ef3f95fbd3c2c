import { fal } from '@fal-ai/client'
import type { ModelForm } from './fields.js'
import { renderForm } from './form.js'
import { renderOutput } from './output.js'
import { runModel } from './run.js'
import { renderSpendLine } from './spend.js'
import { h } from './dom.js'
import './styles.css'

// No credentials here: the gateway holds the key and the client sends every call through it.
fal.config({ proxyUrl: '/api/fal/proxy' })

const models = document.getElementById('models')
if (models === null) throw new Error('The demo page has no #models element')

// The forms are generated from the gateway's catalog; each shows its price and the budget left.
function renderModels (forms: ModelForm[], models: HTMLElement): void {
  for (const model of forms) {
    const form = renderForm(model)
    const output = renderOutput(model.slug, model.transparent)
    const spend = renderSpendLine(model.id, model.slug)
    const button = form.element.querySelector('button[type="submit"]')
    const quote = (): void => {
      try {
        const { input, fileField } = form.read()
        // A file not uploaded yet changes nothing in the price; its URL only has to be there.
        if (fileField !== undefined && input[fileField] === undefined) input[fileField] = 'https://example.com/not-uploaded-yet.png'
        spend.quote(input).catch(() => {})
      } catch {
        // A form that cannot be read yet has no price yet.
      }
    }
    form.element.addEventListener('change', quote)
    quote()

    form.element.addEventListener('submit', event => {
      event.preventDefault()
      button?.setAttribute('disabled', '')
      runModel(model, form, output).finally(() => {
        button?.removeAttribute('disabled')
        spend.remaining().catch(() => {})
      })
    })

    models.append(h('article', { id: model.slug, class: 'model', 'aria-labelledby': `${model.slug}-title` },
      h('header', {},
        h('h2', { id: `${model.slug}-title` }, model.title),
        h('p', {}, h('code', {}, model.id), ` · ${model.blurb}`)),
      h('div', { class: 'model-body' }, form.element, output.element), spend.element))
  }
}

fetch('/demo/models.json')
  .then(async response => await response.json() as ModelForm[])
  .then(forms => { renderModels(forms, models) }, (error: unknown) => { models.textContent = `The models could not be loaded: ${String(error)}` })
