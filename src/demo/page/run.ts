import { ApiError, ValidationError, fal } from '@fal-ai/client'
import type { ModelForm } from './fields.js'
import type { RenderedForm } from './form.js'
import type { ResultImage, RunView } from './output.js'

/** The first image of a result, whatever the model calls it (`image`, `images[0]`, …). */
function firstImage (value: unknown): ResultImage | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const record = value as Record<string, unknown>
  if (typeof record.url === 'string' && String(record.content_type ?? 'image/').startsWith('image/')) return record as unknown as ResultImage
  for (const nested of Array.isArray(value) ? value : Object.values(record)) {
    const found = firstImage(nested)
    if (found !== undefined) return found
  }
  return undefined
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
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    const image = firstImage(data)
    const seed = (data as { seed?: unknown }).seed
    if (image !== undefined) view.result(image, `${seed === undefined ? '' : `seed ${String(seed)} · `}request ${requestId}`)
    view.phase(image === undefined ? `Done in ${seconds} s: ${JSON.stringify(data).slice(0, 300)}` : `Done in ${seconds} s.`, 'done')
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
