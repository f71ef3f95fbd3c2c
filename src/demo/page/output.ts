import type { QueueStatus, RequestLog } from '@fal-ai/client'
import { h } from './dom.js'

export type Tone = 'idle' | 'busy' | 'done' | 'error'

export interface ResultImage {
  url: string
  width?: number
  height?: number
}

export interface RunView {
  element: HTMLElement
  reset (): void
  phase (text: string, tone?: Tone): void
  queue (update: QueueStatus): void
  result (image: ResultImage, caption: string): void
}

/** The right-hand panel of a model: status line, live logs, and the image once it is ready. */
export function renderOutput (slug: string, transparent: boolean): RunView {
  const status = h('p', { id: `${slug}-status`, class: 'status', role: 'status', 'aria-live': 'polite', 'data-tone': 'idle' }, 'Ready.')
  const logs = h('ol', { class: 'logs', 'aria-label': 'Logs' })
  const logBox = h('div', { class: 'log-box', hidden: true }, h('h3', {}, 'Logs'), logs)
  const image = h('img', { class: 'result-image', alt: '' })
  const caption = h('figcaption', {})
  const figure = h('figure', { class: 'result', hidden: true },
    h('div', { class: transparent ? 'canvas checkerboard' : 'canvas' }, image),
    caption)
  const element = h('section', { class: 'output', 'aria-label': 'Run' }, status, logBox, figure)

  const phase = (text: string, tone: Tone = 'busy') => {
    status.textContent = text
    status.dataset.tone = tone
  }
  const showLogs = (lines: RequestLog[]) => {
    // Each poll carries every line so far: redraw rather than append.
    logs.replaceChildren(...lines.map(line => h('li', {},
      h('time', { datetime: line.timestamp }, new Date(line.timestamp).toLocaleTimeString()),
      ` ${line.message}`)))
    logBox.hidden = lines.length === 0
    logs.scrollTop = logs.scrollHeight
  }

  return {
    element,
    reset () {
      phase('Ready.', 'idle')
      showLogs([])
      figure.hidden = true
      image.removeAttribute('src')
    },
    phase,
    queue (update) {
      if (update.status === 'IN_QUEUE') {
        phase(update.queue_position === 0 ? 'In queue: next up.' : `In queue: ${update.queue_position} ahead.`)
        return
      }
      showLogs(update.logs ?? [])
      if (update.status === 'IN_PROGRESS') phase('Generating…')
      else phase('Fetching the result…')
    },
    result (result, text) {
      image.src = result.url
      image.alt = text
      if (result.width !== undefined) image.width = result.width
      if (result.height !== undefined) image.height = result.height
      caption.textContent = text
      figure.hidden = false
    }
  }
}
