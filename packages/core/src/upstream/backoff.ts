/** Options of {@link computeBackoff}. */
export interface BackoffOptions {
  /** First delay. Defaults to 1000 ms. */
  readonly baseMs?: number;
  /** Largest delay before jitter. */
  readonly capMs: number;
  /** Relative jitter, ±. Defaults to 0 (none). */
  readonly jitter?: number;
  /** Source of randomness in [0, 1). Defaults to Math.random. */
  readonly random?: () => number;
}

/**
 * Exponential backoff: `baseMs × 2^(attempt-1)`, capped at `capMs`, then spread by ±`jitter`.
 * `attempt` counts from 1. Matches the anchor's upstream manager (1 s, ×2, jitter 0.1, cap = tick).
 */
export function computeBackoff(attempt: number, options: BackoffOptions): number {
  const base = options.baseMs ?? 1000;
  const raw = Math.min(base * 2 ** Math.max(0, Math.min(attempt - 1, 30)), options.capMs);
  const jitter = options.jitter ?? 0;
  if (jitter === 0) return raw;
  const random = options.random ?? Math.random;
  return Math.max(0, Math.round(raw * (1 + (random() * 2 - 1) * jitter)));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
