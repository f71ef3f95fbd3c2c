import type { QueueStatus } from '@fal-ai/client'
import { fal, PROXY_URL } from './fal'
import { problemOf } from './problems'

const MODEL = 'fal-ai/illusion-diffusion'

interface IllusionOutput {
  image: { url: string, width: number, height: number }
  seed: number
}

const form = document.querySelector<HTMLFormElement>('#generate')!
const button = form.querySelector('button')!
const progress = document.querySelector<HTMLElement>('#progress')!
const status = document.querySelector<HTMLElement>('#status')!
const logs = document.querySelector<HTMLOListElement>('#logs')!
const problem = document.querySelector<HTMLElement>('#problem')!
const output = document.querySelector<HTMLElement>('#output')!
const result = document.querySelector<HTMLImageElement>('#result')!

function showStatus (update: QueueStatus): void {
  if (update.status === 'IN_QUEUE') status.textContent = `In queue (position ${update.queue_position})`
  else if (update.status === 'IN_PROGRESS') status.textContent = 'Generating…'
  else status.textContent = 'Done: fetching the image'
  // Each update carries every log line so far.
  const lines = 'logs' in update ? update.logs ?? [] : []
  logs.replaceChildren(...lines.map(line => Object.assign(document.createElement('li'), { textContent: line.message })))
}

function clearProblems (): void {
  problem.hidden = true
  problem.className = ''
  for (const field of form.querySelectorAll<HTMLElement>('.field-error')) field.textContent = ''
  for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid')
}

function showProblem (error: unknown): void {
  const { message, fields, kind } = problemOf(error, PROXY_URL)
  problem.textContent = message
  problem.className = kind
  problem.hidden = false
  for (const [name, text] of Object.entries(fields)) {
    const slot = form.querySelector<HTMLElement>(`.field-error[data-field="${name}"]`)
    if (slot !== null) slot.textContent = text
    for (const input of form.querySelectorAll(name === 'image_size' ? '[name=width], [name=height]' : `[name="${name}"]`)) input.setAttribute('aria-invalid', 'true')
  }
}

form.addEventListener('submit', event => {
  event.preventDefault()
  generate(new FormData(form)).catch(showProblem)
})

async function generate (data: FormData): Promise<void> {
  clearProblems()
  button.disabled = true
  output.hidden = true
  progress.hidden = false
  logs.replaceChildren()
  try {
    const pattern = data.get('pattern')
    if (!(pattern instanceof File) || pattern.size === 0) throw new Error('Choose a pattern image first.')
    status.textContent = 'Uploading the pattern…'
    // Goes to fal's storage: the gateway only starts the upload (and counts it).
    const imageUrl = await fal.storage.upload(pattern)
    const { data: image } = await fal.subscribe(MODEL, {
      input: {
        image_url: imageUrl,
        prompt: String(data.get('prompt')),
        image_size: { width: Number(data.get('width')), height: Number(data.get('height')) }
      },
      logs: true,
      onQueueUpdate: showStatus
    }) as { data: IllusionOutput }
    result.src = image.image.url
    result.alt = String(data.get('prompt'))
    output.querySelector('figcaption')!.textContent = `${image.image.width}×${image.image.height}, seed ${image.seed}`
    output.hidden = false
    status.textContent = 'Done'
  } catch (error) {
    progress.hidden = true
    showProblem(error)
  } finally {
    button.disabled = false
  }
}
