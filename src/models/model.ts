import type { TObject } from '@sinclair/typebox'

/** What the gateway needs to know to serve one fal model. */
export interface FalModel {
  /** fal's app id, `owner/alias`: the path under the queue host. */
  id: string
  title: string
  input: TObject
  output: TObject
}
