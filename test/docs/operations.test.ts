import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { startGateway } from '../helpers/gateway.js'
import { exportedNames, metricNames } from '../helpers/prometheus-names.js'

const TOKEN = 'metrics-token-for-tests-0123456789'

interface RuleFile { groups: Array<{ name: string, rules: Array<{ alert: string, expr: string }> }> }

const operations = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8')

function section (heading: string): string {
  const found = new RegExp(`^## ${heading}\\n([\\s\\S]*?)(?=^## )`, 'm').exec(operations)?.[1]
  if (found === undefined) throw new Error(`docs/operations.md has no "## ${heading}"`)
  return found
}

/** The Prometheus rules docs/operations.md offers under "Alerts worth having". */
function documentedAlerts (): RuleFile {
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section('Alerts worth having'))?.[1]
  if (yaml === undefined) throw new Error('docs/operations.md has no alert rules')
  return parse(yaml) as RuleFile
}

/** The gateway's own metrics in the table under "Metrics" (first column of each row). */
function documentedMetrics (): string[] {
  const rows = section('Metrics').split('\n').filter(line => line.startsWith('| `fal_gateway_'))
  return rows.flatMap(row => [...(row.split(' | ')[0] as string).matchAll(/`(fal_gateway_\w+)`/g)].map(match => match[1] as string))
}

async function liveMetrics (t: Parameters<typeof startGateway>[0]): Promise<Set<string>> {
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN } })
  const scrape = await gateway.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(scrape.status, 200)
  return exportedNames(scrape.text)
}

t.test('docs/operations.md lists every fal_gateway_* metric a live gateway exports, and no other', async t => {
  const exported = await liveMetrics(t)
  const documented = documentedMetrics()
  const own = [...exported].filter(name => name.startsWith('fal_gateway_') && !/_(bucket|sum|count)$/.test(name))
  t.same(own.filter(name => !documented.includes(name)), [], 'every exported metric is documented')
  t.same(documented.filter(name => !exported.has(name)), [], 'every documented metric is exported')
})

t.test('the alerts docs/operations.md suggests are PromQL on metrics a live gateway exports', async t => {
  const exported = await liveMetrics(t)
  const rules = documentedAlerts().groups.flatMap(group => group.rules)
  t.ok(rules.length >= 5, `${rules.length} alerts`)
  for (const rule of rules) {
    const names = metricNames(rule.expr)
    t.ok(names.length > 0, `${rule.alert} selects a metric`)
    t.same(names.filter(name => !exported.has(name)), [], `${rule.alert} names only exported metrics`)
  }
})
