import t from 'tap'
import { ceilMicros, formatUsd } from '../../src/spend/money.js'
import { parsePeriodKey, periodEnd, periodKey, periodStart } from '../../src/spend/utc-periods.js'

t.test('periods are UTC days and UTC calendar months', async t => {
  const lastSecondOfYear = Date.UTC(2027, 11, 31, 23, 59, 59)
  t.equal(periodKey('day', lastSecondOfYear), '2027-12-31')
  t.equal(periodKey('month', lastSecondOfYear), '2027-12')
  t.equal(periodEnd('day', lastSecondOfYear), Date.UTC(2028, 0, 1))
  t.equal(periodEnd('month', lastSecondOfYear), Date.UTC(2028, 0, 1))
  t.equal(periodStart('month', Date.UTC(2028, 1, 29, 12)), Date.UTC(2028, 1, 1))
  t.equal(periodEnd('month', Date.UTC(2028, 1, 29, 12)), Date.UTC(2028, 2, 1), 'a leap February')
  t.equal(parsePeriodKey('day', '2028-02-29'), Date.UTC(2028, 1, 29))
  t.equal(parsePeriodKey('month', '2028-02'), Date.UTC(2028, 1, 1))
  for (const bad of ['2027-02-29', '2027-13-01', '2027-1-01', '2027-01-01T00', '']) t.equal(parsePeriodKey('day', bad), undefined, bad)
  t.equal(parsePeriodKey('month', '2027-00'), undefined)
})

t.test('money is whole micro-USD, rounded up, printed without float noise', async t => {
  t.equal(ceilMicros(25_000 * 0.75), 18_750)
  t.equal(ceilMicros(1_605 * 2.5), 4_013)
  t.equal(ceilMicros(0.1 * 3 * 1_000_000), 300_000, '0.30000000000000004 × 1e6 is still 300,000')
  t.throws(() => ceilMicros(-1))
  t.throws(() => ceilMicros(Number.MAX_SAFE_INTEGER * 2))
  t.equal(formatUsd(25_000), '$0.025')
  t.equal(formatUsd(20_000_000), '$20')
  t.equal(formatUsd(1), '$0.000001')
  t.equal(formatUsd(-1_500_000), '-$1.5')
})
