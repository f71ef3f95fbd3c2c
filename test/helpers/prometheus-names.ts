import { parser } from '@prometheus-io/lezer-promql'

/** The metric names an expression selects; throws where it is not PromQL. */
export function metricNames (expression: string): string[] {
  // Grafana's interval variables become a duration, as Grafana does before sending the query.
  const promql = expression.replace(/\$__(rate_interval|interval|range)/g, '5m')
  const names: string[] = []
  const errors: number[] = []
  parser.parse(promql).iterate({
    enter (node) {
      if (node.type.isError) errors.push(node.from)
      if (node.name === 'Identifier' && node.node.parent?.name === 'VectorSelector') names.push(promql.slice(node.from, node.to))
    }
  })
  if (errors.length > 0) throw new Error(`not PromQL at offset ${errors[0]}: ${promql}`)
  return names
}

/** The sample names a scrape can carry, from its `# TYPE` lines (a labelled metric has no sample until it is observed). */
export function exportedNames (exposition: string): Set<string> {
  const names = new Set<string>()
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm) as IterableIterator<[string, string, string]>) {
    names.add(name)
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix)
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix)
  }
  return names
}
