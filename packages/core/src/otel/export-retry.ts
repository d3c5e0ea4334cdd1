const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 5_000;

/** What one attempt to export tells the retry loop when it fails. */
export interface AttemptFailure {
  /** Whether the specification says to try again (a transient answer or no answer). */
  readonly retryable: boolean;
  /** How long the collector asked to wait first (Retry-After, RetryInfo), when it did. */
  readonly retryAfterMs?: number | undefined;
}

/**
 * Runs `attempt` until it succeeds, fails for good, or the next try would start after the
 * deadline: exponential backoff from 1 s (at most 5 s, ±20 % jitter), or the wait the collector
 * asked for. `attempt` gets the milliseconds left and throws; `classify` reads its error.
 * @see https://opentelemetry.io/docs/specs/otlp/#retrying
 */
export async function withExportRetries(
  timeoutMs: number,
  attempt: (remainingMs: number) => Promise<void>,
  classify: (error: unknown) => AttemptFailure,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let tries = 0; ; tries++) {
    try {
      return await attempt(Math.max(1, deadline - Date.now()));
    } catch (error) {
      const failure = classify(error);
      if (!failure.retryable) throw error;
      const backoff = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** tries) * (0.8 + Math.random() * 0.4);
      const wait = failure.retryAfterMs ?? backoff;
      if (Date.now() + wait >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}
