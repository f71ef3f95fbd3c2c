/** What a string costs in memory: JS strings are UTF-16, two bytes a code unit. */
export const utf16Bytes = (text: string): number => text.length * 2

/**
 * An LRU of answers bounded by their total size in bytes, with a time to live per entry. Map
 * order is recency: a hit moves the entry to the end, eviction takes from the front. `sizeOf`
 * tells what a value costs; a key costs its UTF-16 bytes, and every entry a rough fixed overhead.
 */
export class ByteBoundedCache<T> {
  private readonly entries = new Map<string, { value: T, cost: number, expiresAt: number }>()
  private bytes = 0

  constructor (private readonly maxBytes: number, private readonly sizeOf: (value: T) => number) {}

  get size (): number { return this.entries.size }
  get totalBytes (): number { return this.bytes }

  get (key: string, now = Date.now()): T | undefined {
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

  set (key: string, value: T, ttlMs: number, now = Date.now()): void {
    const cost = utf16Bytes(key) + this.sizeOf(value) + ENTRY_OVERHEAD
    if (cost > this.maxBytes || ttlMs <= 0) return
    this.delete(key)
    this.entries.set(key, { value, cost, expiresAt: now + ttlMs })
    this.bytes += cost
    for (const [oldest, entry] of this.entries) {
      if (this.bytes <= this.maxBytes) break
      this.entries.delete(oldest)
      this.bytes -= entry.cost
    }
  }

  delete (key: string): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.bytes -= entry.cost
  }
}

const ENTRY_OVERHEAD = 64
