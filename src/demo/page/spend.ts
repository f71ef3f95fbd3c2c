import { h } from './dom.js'

/** Micro-USD as dollars, to the tenth of a cent the prices need: `$0.0333`. */
function usd (micros: number): string {
  return `$${(micros / 1_000_000).toFixed(4).replace(/0{1,2}$/, '')}`
}

export interface SpendLine {
  element: HTMLElement
  /** Prices the form's current input (what a submit of it would reserve). */
  quote (input: Record<string, unknown>): Promise<void>
  /** Shows what is left of today's budget, after a run. */
  remaining (): Promise<void>
}

/**
 * The money of one model's form: its price before submit (`POST /v1/price`, priced as the submit
 * will be) and the budget left after (`GET /v1/usage`). Failures leave the line as it was.
 */
export function renderSpendLine (endpointId: string, slug: string): SpendLine {
  const price = h('span', { id: `${slug}-price`, class: 'price' }, '')
  const left = h('span', { id: `${slug}-budget`, class: 'budget' }, '')
  const element = h('p', { class: 'spend', 'aria-live': 'polite' }, price, ' ', left)
  let asked = 0
  return {
    element,
    async quote (input) {
      const mine = ++asked
      const answer = await fetch(`/v1/price?endpoint_id=${encodeURIComponent(endpointId)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) }).catch(() => undefined)
      if (mine !== asked || answer?.ok !== true) return
      const quoted = await answer.json() as { price_micro_usd: number, estimated: boolean }
      price.textContent = `Price: ${usd(quoted.price_micro_usd)}${quoted.estimated ? ' (estimated)' : ''}`
    },
    async remaining () {
      const answer = await fetch('/v1/usage').catch(() => undefined)
      if (answer?.ok !== true) return
      const { periods } = await answer.json() as { periods: Array<{ remaining_micro_usd: number | null }> }
      const today = periods[0]?.remaining_micro_usd
      left.textContent = today === null || today === undefined ? 'No budget limit today.' : `Budget left today: ${usd(today)}`
    }
  }
}
