import { NOOP_LOGGER } from '@mcp-gateway/core';
import { describe, expect, it } from 'vitest';
import { createWorkQueue } from './work-queue.ts';

const until = async (check: () => boolean, timeoutMs = 2000) => {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('work queue', () => {
  it('runs a key once however often it is added before it runs', async () => {
    const runs: string[] = [];
    let release: () => void = () => undefined;
    const queue = createWorkQueue(
      async (key) => {
        runs.push(key);
        if (key === 'first') await new Promise<void>((r) => (release = r));
      },
      { logger: NOOP_LOGGER },
    );
    queue.add('first');
    queue.add('a');
    queue.add('a');
    queue.add('b');
    queue.add('a');
    release();
    await until(() => queue.size === 0);
    expect(runs).toEqual(['first', 'a', 'b']);
    await queue.stop();
  });

  it('runs a key again when it is added while it runs', async () => {
    let runs = 0;
    let release: () => void = () => undefined;
    const queue = createWorkQueue(
      async () => {
        runs += 1;
        if (runs === 1) await new Promise<void>((r) => (release = r));
      },
      { logger: NOOP_LOGGER },
    );
    queue.add('a');
    await until(() => runs === 1);
    queue.add('a');
    release();
    await until(() => runs === 2 && queue.size === 0);
    await queue.stop();
  });

  it('retries a failing key with growing delays until it succeeds', async () => {
    const times: number[] = [];
    const queue = createWorkQueue(
      async () => {
        times.push(Date.now());
        if (times.length < 4) throw new Error('not yet');
      },
      { logger: NOOP_LOGGER, baseDelayMs: 20, maxDelayMs: 1000 },
    );
    queue.add('a');
    await until(() => times.length === 4 && queue.size === 0);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(15);
    expect(gaps[2]).toBeGreaterThanOrEqual(70);
    await queue.stop();
  });
});
