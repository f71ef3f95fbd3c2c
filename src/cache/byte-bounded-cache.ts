/**
 * An LRU of serialized answers bounded by their total size in bytes, with a time to live per
 * entry. Map order is recency: a hit moves the entry to the end, eviction takes from the front.
 */
export class ByteBoundedCache {
  private readonly entries = new Map<string, { value: string, expiresAt: number }>()
  private bytes = 0

  constructor (private readonly maxBytes: number) {}

  get size (): number { return this.entries.size }
  get totalBytes (): number { return this.bytes }

  get (key: string, now = Date.now()): string | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    if (entry.expiresAt <= now) {
      this.delete(key)
      return undefined
    }
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  set (key: string, value: string, ttlMs: number, now = Date.now()): void {
    const cost = costOf(key, value)
    if (cost > this.maxBytes || ttlMs <= 0) return
    this.delete(key)
    this.entries.set(key, { value, expiresAt: now + ttlMs })
    this.bytes += cost
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      this.entries.delete(oldest)
      this.bytes -= costOf(oldest, entry.value)
    }
  }

  delete (key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.bytes -= costOf(key, entry.value)
  }
}

/** JS strings are UTF-16: two bytes a code unit, plus a rough fixed overhead per entry. */
function costOf (key: string, value: string): number {
  return (key.length + value.length) * 2 + 64
}
