import type { Logger } from '@mcp-gateway/core';

/** Options of a work queue. */
export interface WorkQueueOptions {
  readonly logger: Logger;
  /** First retry delay after a failure; doubles per consecutive failure. Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Longest retry delay. Default 30 s. */
  readonly maxDelayMs?: number;
  /**
   * Called before each batch: the keys waiting when a batch starts are processed together,
   * and keys added meanwhile wait for the next batch (so a burst of changes costs one
   * `beforeBatch` per batch, not one per key).
   */
  readonly beforeBatch?: () => void;
}

/** Keys waiting for work, each processed by one worker at a time. */
export interface WorkQueue {
  /** Queues `key` (once, however often it is added before it runs). */
  add(key: string): void;
  /** Queues `key` after `delayMs`. */
  addAfter(key: string, delayMs: number): void;
  /** Number of keys waiting or running. */
  readonly size: number;
  /** Stops taking keys and waits for the running one. */
  stop(): Promise<void>;
}

export const DEFAULT_BASE_DELAY_MS = 200;
export const DEFAULT_MAX_DELAY_MS = 30_000;

/**
 * A de-duplicating work queue in the style of client-go's, worked in batches: a key added while
 * a batch runs is processed in the next one; a failed key is retried with exponential backoff (base
 * delay doubling up to the maximum), and its failure count resets once it succeeds.
 */
export function createWorkQueue(handler: (key: string) => Promise<void>, options: WorkQueueOptions): WorkQueue {
  const base = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
  const max = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
  const pending = new Set<string>();
  const failures = new Map<string, number>();
  const timers = new Set<NodeJS.Timeout>();
  let running: Promise<void> | undefined;
  let stopped = false;

  function kick(): void {
    if (running !== undefined || stopped || pending.size === 0) return;
    running = drain().finally(() => {
      running = undefined;
      kick();
    });
  }

  async function drain(): Promise<void> {
    while (!stopped && pending.size > 0) {
      const batch = [...pending];
      pending.clear();
      options.beforeBatch?.();
      for (const key of batch) {
        if (stopped) return;
        await run(key);
      }
    }
  }

  async function run(key: string): Promise<void> {
    try {
      await handler(key);
      failures.delete(key);
    } catch (error) {
      const count = (failures.get(key) ?? 0) + 1;
      failures.set(key, count);
      const delay = Math.min(base * 2 ** (count - 1), max);
      options.logger.warn('reconcile failed, retrying', {
        key,
        attempt: count,
        retryInMs: delay,
        error: error instanceof Error ? error.message : String(error),
      });
      addAfter(key, delay);
    }
  }

  function add(key: string): void {
    if (stopped) return;
    pending.add(key);
    kick();
  }

  function addAfter(key: string, delayMs: number): void {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      add(key);
    }, delayMs);
    timer.unref();
    timers.add(timer);
  }

  return {
    add,
    addAfter,
    get size() {
      return pending.size + (running !== undefined ? 1 : 0);
    },
    async stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      await running;
    },
  };
}
