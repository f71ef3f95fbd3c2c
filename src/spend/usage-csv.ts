import type { LedgerEntry } from './spend-store.js'

export const USAGE_CSV_HEADER = 'time,event,client,tier,model,request_id,reservation_id,reserved_micro_usd,charged_micro_usd\n'

/**
 * One ledger entry as a CSV line (RFC 4180). Text a client chose (a JWT subject is part of its
 * client id) is quoted when it must be, and never starts a spreadsheet formula.
 */
export function usageCsvLine (entry: LedgerEntry): string {
  return [
    new Date(entry.at).toISOString(),
    entry.event,
    text(entry.clientId),
    text(entry.tier),
    text(entry.endpointId),
    text(entry.requestId ?? ''),
    text(entry.reservationId),
    String(entry.reservedDeltaMicros),
    String(entry.chargedDeltaMicros)
  ].join(',') + '\n'
}

function text (value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe
}
