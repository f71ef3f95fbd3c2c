import { fal } from '@fal-ai/client'
import { MODEL_FORMS } from './fields.js'
import { renderForm } from './form.js'
import { renderOutput } from './output.js'
import { runModel } from './run.js'
import { h } from './dom.js'
import './styles.css'

// No credentials here: the gateway holds the key and the client sends every call through it.
fal.config({ proxyUrl: '/api/fal/proxy' })

const models = document.getElementById('models')
if (models === null) throw new Error('The demo page has no #models element')

for (const model of MODEL_FORMS) {
  const form = renderForm(model)
  const output = renderOutput(model.slug, model.transparent)
  const button = form.element.querySelector('button[type="submit"]')

  form.element.addEventListener('submit', event => {
    event.preventDefault()
    button?.setAttribute('disabled', '')
    runModel(model, form, output).finally(() => { button?.removeAttribute('disabled') })
  })

  models.append(h('article', { id: model.slug, class: 'model', 'aria-labelledby': `${model.slug}-title` },
    h('header', {},
      h('h2', { id: `${model.slug}-title` }, model.title),
      h('p', {}, h('code', {}, model.id), ` · ${model.blurb}`)),
    h('div', { class: 'model-body' }, form.element, output.element)))
}
