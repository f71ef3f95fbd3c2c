import t from 'tap'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import addFormats from 'ajv-formats'
import { loadCatalog } from '../../src/catalog/load-catalog.js'
import { json, startGateway } from '../helpers/gateway.js'
import { pathOf, pollUntilCompleted } from '../routes/queue/queue-client.js'
import { FAL_DOCUMENTS, catalogFileOf, validValue, violations } from '../helpers/fal-documents.js'

const ajv = new Ajv({ strict: false, allErrors: true })
addFormats.default(ajv)

t.test('every real fal document: a valid input goes end to end through the emulator, and each kind of rule refuses with 422 naming the field while fal receives nothing', async t => {
  const modelsDir = t.testdir()
  for (const document of FAL_DOCUMENTS) {
    mkdirSync(join(modelsDir, document.endpointId, '..'), { recursive: true })
    writeFileSync(join(modelsDir, `${document.endpointId}.json`), JSON.stringify(catalogFileOf(document)))
  }
  const catalog = loadCatalog(modelsDir)
  const gateway = await startGateway(t, { env: { MODELS_DIR: modelsDir, RATE_LIMIT_SUBMIT_MAX: '10000', DAILY_SUBMIT_QUOTA: '10000', MAX_IN_FLIGHT: '100' } })

  for (const endpoint of catalog.endpoints) {
    const input = validValue(endpoint.input) as Record<string, unknown>
    gateway.emulator.resetCalls()
    for (const { rule, field, value } of violations(endpoint.input)) {
      const body: Record<string, unknown> = { ...input, [field]: value }
      if (value === undefined) delete body[field]
      const answer = await gateway.request(`/queue/${endpoint.id}`, json(body))
      const locs = answer.status === 422 ? answer.json().detail.map((error: { loc: unknown[] }) => error.loc[1]) : []
      t.ok(answer.status === 422 && locs.length > 0 && locs.every((loc: unknown) => loc === field), `${endpoint.id} ${rule}: 422 naming ${field} (got ${answer.status} ${answer.text.slice(0, 200)})`)
    }
    t.equal(gateway.emulator.callsOf('submit').length, 0, `${endpoint.id}: the emulator received none of the refused inputs`)

    const submitted = await gateway.request(`/queue/${endpoint.id}`, json(input))
    t.equal(submitted.status, 202, `${endpoint.id}: a valid input is accepted (${submitted.text.slice(0, 200)})`)
    const { status_url: statusUrl, response_url: responseUrl } = submitted.json()
    t.equal((await pollUntilCompleted(gateway, pathOf(statusUrl))).at(-1)?.status, 200, `${endpoint.id}: completes`)
    const result = await gateway.request(pathOf(responseUrl))
    t.equal(result.status, 200)
    t.ok(ajv.validate(endpoint.output, result.json()), `${endpoint.id}: the result matches the output schema ${ajv.errorsText(ajv.errors)}`)
  }
})
