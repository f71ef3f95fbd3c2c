import { ApiError, ValidationError, fal } from '@fal-ai/client'
import type { ModelForm } from './fields.js'
import type { RenderedForm } from './form.js'
import type { ResultImage, RunView } from './output.js'

interface ModelOutput {
  image: ResultImage
  seed: number
}

// A file is uploaded once per pick, however many runs (or refused inputs) follow.
const uploads = new WeakMap<File, string>()

async function uploadOnce (file: File): Promise<string> {
  const known = uploads.get(file)
  if (known !== undefined) return known
  const url = await fal.storage.upload(file)
  uploads.set(file, url)
  return url
}

/** One run of a model: upload the picked file if any, subscribe, and show what comes back. */
export async function runModel (model: ModelForm, form: RenderedForm, view: RunView): Promise<void> {
  form.clearErrors()
  view.reset()
  const started = performance.now()
  try {
    const { input, file, fileField } = form.read()
    if (file !== undefined && fileField !== undefined) {
      view.phase(`Uploading ${file.name}…`)
      input[fileField] = await uploadOnce(file)
    }
    view.phase('Submitting…')
    const { data, requestId } = await fal.subscribe(model.id, {
      input,
      logs: true,
      onQueueUpdate: update => { view.queue(update) }
    })
    const output = data as ModelOutput
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    view.result(output.image, `seed ${output.seed} · request ${requestId}`)
    view.phase(`Done in ${seconds} s.`, 'done')
  } catch (error) {
    view.phase(describe(error, form), 'error')
  }
}

function describe (error: unknown, form: RenderedForm): string {
  if (error instanceof ValidationError) {
    const unclaimed = form.showFieldErrors(error.fieldErrors)
    const rest = unclaimed.map(field => field.msg).join('; ')
    return `The gateway refused the input${rest === '' ? ': see the highlighted fields.' : `: ${rest}`}`
  }
  if (error instanceof ApiError) {
    if (error.status === 429) return `Rate limited (429): ${error.message}`
    return `Request failed (${error.status}): ${error.message}`
  }
  return `Request failed: ${error instanceof Error ? error.message : String(error)}`
}
