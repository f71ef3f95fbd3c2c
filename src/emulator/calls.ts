import { Type, type Static } from '@sinclair/typebox'

/** The fal calls the emulator answers, as named in the call log and in fault filters. */
export const OperationSchema = Type.Union([
  Type.Literal('submit'),
  Type.Literal('status'),
  Type.Literal('stream'),
  Type.Literal('result'),
  Type.Literal('cancel'),
  Type.Literal('run'),
  Type.Literal('run-stream'),
  Type.Literal('upload-initiate'),
  Type.Literal('upload-put'),
  Type.Literal('upload-initiate-multipart'),
  Type.Literal('upload-part'),
  Type.Literal('upload-complete'),
  Type.Literal('file'),
  Type.Literal('billing-events')
])
export type Operation = Static<typeof OperationSchema>

export interface EmulatorCall {
  operation: Operation
  method: string
  url: string
  appId?: string
  requestId?: string
  headers: Record<string, string | string[] | undefined>
  body: unknown
  at: number
}

// A benchmark sends ~1M requests: keep only the newest calls so memory stays flat.
const DEFAULT_MAX_CALLS = 10_000

/** The in-order log of fal calls the emulator received, trimmed to the newest `max` entries. */
export class CallLog {
  #calls: EmulatorCall[] = []
  readonly #max: number

  constructor (max = DEFAULT_MAX_CALLS) {
    this.#max = max
  }

  get all (): EmulatorCall[] {
    return this.#calls
  }

  record (call: EmulatorCall): void {
    this.#calls.push(call)
    // Trim in batches so the splice cost is amortised over many pushes.
    if (this.#calls.length > this.#max + Math.ceil(this.#max / 10)) {
      this.#calls.splice(0, this.#calls.length - this.#max)
    }
  }

  of (operation: Operation): EmulatorCall[] {
    return this.#calls.filter(call => call.operation === operation)
  }

  reset (): void {
    this.#calls.length = 0
  }
}
