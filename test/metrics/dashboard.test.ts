import { readFile } from 'node:fs/promises'
import t from 'tap'
import { startGateway } from '../helpers/gateway.js'
import { exportedNames, metricNames } from '../helpers/prometheus-names.js'

const TOKEN = 'metrics-token-for-tests-0123456789'
const dashboardPath = new URL('../../deploy/grafana/fal-gateway.json', import.meta.url)

interface Panel { title?: string, targets?: Array<{ expr?: string }>, panels?: Panel[] }
interface Dashboard { panels: Panel[], templating: { list: Array<{ name: string, query?: string | { query?: string } }> } }

/** Every PromQL expression of the dashboard, by where it is (panel title or variable name). */
function expressionsOf (dashboard: Dashboard): Array<[string, string]> {
  const found: Array<[string, string]> = []
  const visit = (panel: Panel): void => {
    for (const target of panel.targets ?? []) if (target.expr !== undefined) found.push([`panel "${panel.title ?? ''}"`, target.expr])
    for (const inner of panel.panels ?? []) visit(inner)
  }
  dashboard.panels.forEach(visit)
  for (const variable of dashboard.templating.list) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query
    // Grafana's label_values(selector, label): the selector is PromQL.
    const selector = query === undefined ? undefined : /^label_values\((.+),\s*\w+\)$/.exec(query)?.[1]
    if (selector !== undefined) found.push([`variable "${variable.name}"`, selector])
  }
  return found
}

/** Where the dashboard names a metric the gateway does not export. */
function unknownMetrics (dashboard: Dashboard, exported: Set<string>): string[] {
  return expressionsOf(dashboard).flatMap(([where, expression]) =>
    metricNames(expression).filter(name => !exported.has(name)).map(name => `${where}: ${name}`))
}

t.test('the Grafana dashboard names only metrics a live gateway exports', async t => {
  const dashboard = JSON.parse(await readFile(dashboardPath, 'utf8')) as Dashboard
  const gateway = await startGateway(t, { env: { METRICS_TOKEN: TOKEN } })
  await gateway.request('/healthz')
  const scrape = await gateway.request('/metrics', { headers: { authorization: `Bearer ${TOKEN}` } })
  t.equal(scrape.status, 200)
  const exported = exportedNames(scrape.text)

  const expressions = expressionsOf(dashboard)
  t.ok(expressions.length >= 15, 'the dashboard has its queries')
  const used = new Set(expressions.flatMap(([, expression]) => metricNames(expression)))
  t.same(unknownMetrics(dashboard, exported), [], 'every metric the dashboard names is exported')
  for (const prefix of ['fal_gateway_', 'process_', 'nodejs_']) {
    t.ok([...used].some(name => name.startsWith(prefix)), `it charts ${prefix}* metrics`)
  }

  // The check itself catches a stale name, and a query that is not PromQL.
  const stale: Dashboard = { panels: [{ title: 'old', targets: [{ expr: 'rate(gateway_process_process_cpu_user_seconds_total[$__rate_interval])' }] }], templating: { list: [] } }
  t.same(unknownMetrics(stale, exported), ['panel "old": gateway_process_process_cpu_user_seconds_total'])
  t.throws(() => metricNames('sum(rate(fal_gateway_http_requests_total[5m])'), /not PromQL/)
})
