import { createFalClient } from '@fal-ai/client'
import t from 'tap'
import { falHostFetch } from '../helpers/fal-host-fetch.js'
import { KEY, startEmulator } from './start.js'

t.test('storage.upload stores the bytes; the file URL serves them back with their type', async t => {
  const { fal, emulator, baseUrl } = await startEmulator(t)
  const bytes = new Uint8Array(300_000).map((_, i) => (i * 31) % 256)
  const url = await fal.storage.upload(new Blob([bytes], { type: 'image/webp' }))
  t.ok(url.startsWith(`${baseUrl}/files/`), 'the file URL points at the emulator')

  const response = await fetch(url)
  t.equal(response.status, 200)
  t.equal(response.headers.get('content-type'), 'image/webp')
  t.same(new Uint8Array(await response.arrayBuffer()), bytes, 'the same bytes come back')

  const [initiate] = emulator.callsOf('upload-initiate')
  t.match(initiate?.body, { content_type: 'image/webp', file_name: /\.webp$/ })
  const [put] = emulator.callsOf('upload-put')
  t.same(put?.body, { byteLength: 300_000 }, 'the log records the size of a PUT, not its bytes')
  t.equal(put?.headers.authorization, undefined, 'the client sends no key with the PUT')
})

t.test('a JSON file uploads as raw bytes too', async t => {
  const { fal } = await startEmulator(t)
  const json = '{"not": "parsed"'
  const url = await fal.storage.upload(new File([json], 'broken.json', { type: 'application/json' }))
  t.match(url, /\/broken\.json$/)
  t.equal(await (await fetch(url)).text(), json)
})

t.test('initiate needs the key; unknown uploads and files are 404', async t => {
  const { baseUrl } = await startEmulator(t)
  const intruder = createFalClient({ credentials: 'nope', fetch: falHostFetch(baseUrl) })
  await t.rejects(intruder.storage.upload(new Blob(['x'])), { name: 'ApiError', status: 401 })

  const put = await fetch(`${baseUrl}/storage/uploads/00000000-0000-4000-8000-000000000000`, { method: 'PUT', body: 'x' })
  t.equal(put.status, 404)
  t.equal((await fetch(`${baseUrl}/files/uploads/00000000-0000-4000-8000-000000000000/x.txt`)).status, 404)
  t.equal((await fetch(`${baseUrl}/files/not-an-image.png`)).status, 404)
})

t.test('an initiated upload is not served before its bytes arrive', async t => {
  const { baseUrl } = await startEmulator(t)
  const response = await fetch(`${baseUrl}/storage/upload/initiate?storage_type=fal-cdn-v3`, {
    method: 'POST',
    headers: { authorization: `Key ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content_type: 'text/plain', file_name: 'a.txt' })
  })
  const { upload_url: uploadUrl, file_url: fileUrl } = await response.json() as { upload_url: string, file_url: string }
  t.equal((await fetch(fileUrl)).status, 404)
  t.equal((await fetch(uploadUrl, { method: 'PUT', body: 'hello' })).status, 200)
  t.equal(await (await fetch(fileUrl)).text(), 'hello')
})

t.test('uploads over the cap are refused with 413', async t => {
  const { baseUrl } = await startEmulator(t)
  const initiate = await fetch(`${baseUrl}/storage/upload/initiate`, {
    method: 'POST',
    headers: { authorization: `Key ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ content_type: 'application/octet-stream', file_name: 'big.bin' })
  })
  const { upload_url: uploadUrl } = await initiate.json() as { upload_url: string }
  const response = await fetch(uploadUrl, { method: 'PUT', body: new Uint8Array(21 * 1024 * 1024) })
  t.equal(response.status, 413)
})
