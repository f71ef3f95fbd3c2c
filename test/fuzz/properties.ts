import fc from 'fast-check'
import type { Emulator } from '../../src/emulator/emulator.js'

/** What the properties need of a running gateway: where it is and what fal (the emulator) saw. */
export interface FuzzTarget {
  url: string
  emulator: Emulator
  /** Every response body and header dump, for the key-leak check. */
  seen: string[]
}

export interface Answer { status: number, text: string }

export interface FuzzProperty {
  name: string
  property: fc.IAsyncProperty<any>
}

/** The seed models of the shipped catalog (models/). */
const VALID_INPUTS: Record<string, Record<string, unknown>> = {
  'fal-ai/illusion-diffusion': { image_url: 'https://example.com/pattern.png', prompt: 'a medieval village' },
  'fal-ai/layer-diffusion': { prompt: 'a glass bottle' }
}
const MODEL_IDS = Object.keys(VALID_INPUTS)

/** Printable ASCII: what fetch accepts in a header value. */
const headerValue = fc.stringMatching(/^[\x21-\x7e]([\x20-\x7e]{0,120}[\x21-\x7e])?$/)
const contentType = fc.oneof(
  fc.constantFrom('application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x', 'application/octet-stream', 'application/json; charset=latin1', 'application/jsonx', ''),
  headerValue
)
const jsonText = fc.oneof(fc.json({ maxDepth: 4 }), fc.string({ maxLength: 200 }))
/** Valid inputs with one field replaced, removed or added: the inputs a validator most often gets wrong. */
const mutatedInput = fc.constantFrom(...MODEL_IDS).chain(appId => fc.record({
  appId: fc.constant(appId),
  body: fc.tuple(fc.constantFrom(...Object.keys(VALID_INPUTS[appId] as object), 'seed', 'image_size', 'num_inference_steps', 'extra'), fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }))
    .map(([field, value]) => {
      const body: Record<string, unknown> = { ...VALID_INPUTS[appId] }
      if (value === undefined) delete body[field]
      else body[field] = value
      return body
    })
}))
const requestIdSegment = fc.oneof(fc.uuid(), fc.webSegment(), fc.string({ maxLength: 80 }).map(encodeURIComponent))
const targetUrl = fc.oneof(
  fc.webUrl({ withQueryParameters: true, withFragments: true }),
  fc.tuple(fc.constantFrom('https://queue.fal.run/', 'https://rest.fal.ai/', 'http://queue.fal.run/', 'https://queue.fal.run.evil.com/', 'https://queue.fal.run@evil.com/', '//queue.fal.run/'),
    fc.oneof(fc.constantFrom(...MODEL_IDS), fc.webPath()), fc.oneof(fc.constant(''), fc.webPath(), fc.uuid().map(id => `/requests/${id}/status`)))
    .map(([host, app, rest]) => host + app.replace(/^\//, '') + rest),
  headerValue
)

async function send (target: FuzzTarget, path: string, init: RequestInit): Promise<Answer> {
  const response = await fetch(target.url + path, init)
  const text = await response.text()
  target.seen.push(text, JSON.stringify([...response.headers]))
  return { status: response.status, text }
}

/** Runs one request and checks the invariants every answer must keep. */
async function check (target: FuzzTarget, path: string, init: RequestInit, mayReachFal: (answer: Answer) => boolean): Promise<boolean> {
  const before = target.emulator.calls.length
  const answer = await send(target, path, init)
  if (answer.status >= 500) throw new Error(`${init.method ?? 'GET'} ${path} answered ${answer.status}: ${answer.text}`)
  const reached = target.emulator.calls.length - before
  if (reached > 0 && !mayReachFal(answer)) throw new Error(`${path} reached fal ${reached} time(s) but answered ${answer.status}`)
  return true
}

const accepted = (answer: Answer): boolean => answer.status < 300

/** The fuzzing properties of every route; `scripts/fuzz.ts` runs the same ones longer. */
export function fuzzProperties (target: FuzzTarget): FuzzProperty[] {
  return [
    {
      name: 'submit: arbitrary bodies and content types never 5xx, and reach fal only when accepted',
      property: fc.asyncProperty(fc.constantFrom(...MODEL_IDS, 'fal-ai/not-served', 'x'), jsonText, contentType, async (appId, body, type) =>
        await check(target, `/queue/${appId}`, { method: 'POST', headers: type === '' ? {} : { 'content-type': type }, body }, accepted))
    },
    {
      name: 'submit: mutations of valid inputs are accepted or refused with a 4xx, never a 5xx',
      property: fc.asyncProperty(mutatedInput, async ({ appId, body }) =>
        await check(target, `/queue/${appId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, accepted))
    },
    {
      name: 'status, stream, result and cancel of arbitrary request ids never reach fal (nobody owns them)',
      property: fc.asyncProperty(fc.constantFrom(...MODEL_IDS), requestIdSegment, fc.constantFrom('/status', '/status/stream', '', '/cancel'), async (appId, id, action) =>
        await check(target, `/queue/${appId}/requests/${id}${action}`, { method: action === '/cancel' ? 'PUT' : 'GET' }, () => false))
    },
    {
      name: 'x-request-id values never 5xx and are echoed only when valid',
      property: fc.asyncProperty(headerValue, async (id) => {
        const response = await fetch(`${target.url}/healthz`, { headers: { 'x-request-id': id } })
        await response.text()
        if (response.status !== 200) throw new Error(`x-request-id ${JSON.stringify(id)} answered ${response.status}`)
        const echoed = response.headers.get('x-request-id') ?? ''
        return /^[A-Za-z0-9._:-]{1,128}$/.test(id) ? echoed === id : echoed !== id && echoed.length > 0
      })
    },
    {
      name: 'proxy: arbitrary x-fal-target-url values, methods and bodies never 5xx; fal sees only accepted calls',
      property: fc.asyncProperty(targetUrl, fc.constantFrom('GET', 'POST', 'PUT'), fc.option(jsonText, { nil: undefined }), contentType, async (url, method, body, type) => {
        const headers: Record<string, string> = { 'x-fal-target-url': url }
        if (type !== '') headers['content-type'] = type
        return await check(target, '/api/fal/proxy', { method, headers, body: method === 'GET' ? undefined : body }, accepted)
      })
    },
    {
      name: 'unknown routes and methods answer 4xx',
      property: fc.asyncProperty(fc.webPath(), fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'), async (path, method) =>
        await check(target, path === '' ? '/' : path, { method }, () => false))
    }
  ]
}

/** Generous limits: fuzzing explores inputs, not the rate limiter. */
export const FUZZ_ENV = {
  RATE_LIMIT_SUBMIT_MAX: '1000000',
  RATE_LIMIT_POLL_MAX: '1000000',
  RATE_LIMIT_UPLOAD_MAX: '1000000',
  MAX_IN_FLIGHT: '1000000',
  DAILY_SUBMIT_QUOTA: '1000000',
  LOG_LEVEL: 'warn'
}
