/**
 * Keys seen within a sliding window, for "active" gauges (sessions that sent a request in the
 * last minutes). Bounded: past `max` keys the least recently seen is forgotten, so a flood of
 * sessions costs at most `max` entries. A touch is a Map delete and set (insertion order is
 * recency order), at most once a second per key (a busy session's requests cost a lookup, and a
 * key counts as seen up to a second earlier than its last touch); the count sweeps expired keys
 * from the old end, at scrape time only.
 */
const REFRESH_MS = 1_000;

export class RecentKeys {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly max: number,
  ) {}

  /** Notes `key` as seen at `now` (ms). */
  touch(key: string, now: number): void {
    const { seen } = this;
    const at = seen.get(key);
    if (at !== undefined && now - at < REFRESH_MS) return;
    if (!seen.delete(key) && seen.size >= this.max) {
      const oldest = seen.keys().next();
      if (oldest.done !== true) seen.delete(oldest.value);
    }
    seen.set(key, now);
  }

  /** Forgets `key` (a session that ended). */
  forget(key: string): void {
    this.seen.delete(key);
  }

  /** How many keys were seen within the window before `now` (ms); drops the older ones. */
  count(now: number): number {
    const { seen } = this;
    const horizon = now - this.windowMs;
    for (const [key, at] of seen) {
      if (at > horizon) break;
      seen.delete(key);
    }
    return seen.size;
  }
}
