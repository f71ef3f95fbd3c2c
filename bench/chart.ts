export interface ChartRow {
  label: string
  kind: 'floor' | 'official' | 'gateway' | 'bare' | 'cached'
  rps: number
  p99: number
}

const COLORS: Record<ChartRow['kind'], string> = { floor: '#9aa0a6', bare: '#5f6368', official: '#e8710a', gateway: '#1a73e8', cached: '#188038' }
const ROW = 28
const LABEL_WIDTH = 350
const BAR_WIDTH = 300
const PANEL_GAP = 110
const TOP = 56

function escape (text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

function panel (rows: ChartRow[], x: number, title: string, value: (row: ChartRow) => number, format: (n: number) => string): string {
  const max = Math.max(...rows.map(value), 1e-9)
  const bars = rows.map((row, i) => {
    const y = TOP + i * ROW
    const width = Math.max(1, (value(row) / max) * BAR_WIDTH)
    return `<rect x="${x}" y="${y}" width="${width.toFixed(1)}" height="${ROW - 8}" fill="${COLORS[row.kind]}"/>` +
      `<text x="${(x + width + 6).toFixed(1)}" y="${y + ROW / 2}" dominant-baseline="middle">${escape(format(value(row)))}</text>`
  }).join('\n  ')
  return `<text x="${x}" y="${TOP - 16}" font-weight="bold">${escape(title)}</text>\n  ${bars}`
}

/** Two bar panels, throughput and p99 latency, one row per target; hand-written, no dependencies. */
export function renderChart (rows: ChartRow[], caption: string): string {
  const width = LABEL_WIDTH + 2 * BAR_WIDTH + PANEL_GAP + 90
  const height = TOP + rows.length * ROW + 40
  const labels = rows.map((row, i) =>
    `<text x="${LABEL_WIDTH - 10}" y="${TOP + i * ROW + ROW / 2}" text-anchor="end" dominant-baseline="middle">${escape(row.label)}</text>`
  ).join('\n  ')
  const rpsPanel = panel(rows, LABEL_WIDTH, 'requests per second (higher is better)', row => row.rps, n => Math.round(n).toLocaleString('en-US'))
  const p99Panel = panel(rows, LABEL_WIDTH + BAR_WIDTH + PANEL_GAP, 'p99 latency, ms (lower is better)', row => row.p99, n => n.toFixed(1))
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="13">
  <rect width="100%" height="100%" fill="#ffffff"/>
  <text x="10" y="20" font-size="15" font-weight="bold">${escape(caption)}</text>
  ${labels}
  ${rpsPanel}
  ${p99Panel}
  <text x="10" y="${height - 12}" fill="#5f6368">grey: emulator directly (floor) · orange: @fal-ai/server-proxy (Express) · blue: fal-gateway</text>
</svg>
`
}
