const POLL_INTERVAL_MS = 200;

/**
 * Calls `read` until `accept` takes its value, and resolves with that value. An error thrown by
 * `read` counts as "not yet". When `timeoutMs` passes first, rejects with `what`, the last value
 * (or error) and whatever `explain` adds (e.g. why a scrape failed).
 */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs: number,
  explain: () => Promise<string> = async () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    try {
      const value = await read();
      if (accept(value)) return value;
      last = { value };
    } catch (error) {
      last = { error };
    }
    if (Date.now() > deadline) {
      const seen =
        last === undefined ? 'nothing' : 'value' in last ? JSON.stringify(last.value) : `error ${String(last.error)}`;
      const more = await explain().catch((error: unknown) => `(could not explain: ${String(error)})`);
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${seen}${more ? `\n${more}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
