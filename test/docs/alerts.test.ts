import { readFile } from 'node:fs/promises'
import t from 'tap'
import { parse } from 'yaml'
import { startGateway } from '../helpers/gateway.js'
import { exportedNames, metricNames } from '../helpers/prometheus-names.js'

const TOKEN = 'metrics-token-for-tests-0123456789'

interface RuleFile { groups: Array<{ name: string, rules: Array<{ alert: string, expr: string }> }> }

/** The Prometheus rules docs/operations.md offers under "Alerts worth having". */
async function documentedAlerts (): Promise<RuleFile> {
  const operations = await readFile(new URL('../../docs/operations.md', import.meta.url), 'utf8')
  const section = /^## Alerts worth having\n([\s\S]*?)(?=^## )/m.exec(operations)?.[1] ?? ''
  const yaml = /```yaml\n([\s\S]*?)```/.exec(section)?.[1]
  if (yaml === undefined) throw new Error('docs/operations.md has no alert rules')
  return parse(yaml) as RuleFile
}

t.test('the alerts docs/operations.md suggests are PromQL on metrics a live gateway exports', async t => {
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN } })
  const scrape = await gateway.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(scrape.status, 200)
  const exported = exportedNames(scrape.text)

  const rules = (await documentedAlerts()).groups.flatMap(group => group.rules)
  t.ok(rules.length >= 5, `${rules.length} alerts`)
  for (const rule of rules) {
    const names = metricNames(rule.expr)
    t.ok(names.length > 0, `${rule.alert} selects a metric`)
    t.same(names.filter(name => !exported.has(name)), [], `${rule.alert} names only exported metrics`)
  }
})
