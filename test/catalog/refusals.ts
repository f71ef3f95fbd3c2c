import type { Test } from 'tap'
import type { TestResponse } from '../helpers/gateway.js'

/** A 422 in fal's shape whose `detail` names exactly the field at `loc`. */
export async function expectRefused (t: Test, answer: TestResponse, rule: string, loc: Array<string | number>): Promise<void> {
  const body = answer.json()
  t.equal(answer.status, 422, `${rule}: 422`)
  t.equal(body.code, 'VALIDATION_FAILED', `${rule}: code VALIDATION_FAILED`)
  const locs = Array.isArray(body.detail) ? body.detail.map((field: { loc: unknown }) => field.loc) : body.detail
  t.same(locs, [loc], `${rule}: detail names ${JSON.stringify(loc)}`)
  t.ok(Array.isArray(body.detail) && body.detail.every((field: { msg: unknown, type: unknown }) => typeof field.msg === 'string' && field.msg.length > 0 && typeof field.type === 'string'),
    `${rule}: each field error has a msg and a type`)
}

/** Invalid submits are charged to the submit budget too; these tests send more than the default 10. */
export const UNLIMITED = { RATE_LIMIT_SUBMIT_MAX: '1000' }
