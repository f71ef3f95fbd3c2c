/**
 * A fal document the converter cannot turn into a schema. `pointer` is the JSON pointer of the
 * offending place in the catalog file, so the start-up line can name it exactly.
 */
export class ConversionError extends Error {
  override name = 'ConversionError'
  readonly pointer: string

  constructor (pointer: string, message: string) {
    super(message)
    this.pointer = pointer
  }
}

/** Appends one segment to a JSON pointer, escaped as RFC 6901 says. */
export function pointerTo (pointer: string, segment: string | number): string {
  return `${pointer}/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`
}
