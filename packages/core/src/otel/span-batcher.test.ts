import { describe, expect, it } from 'vitest';
import { NOOP_LOGGER, type Logger } from '../logger.ts';
import type { FinishedSpan } from './otel-tracer.ts';
import { createSpanBuffer } from './otlp-encoding.ts';
import { SpanBatcher } from './span-batcher.ts';

const span = (name: string) =>
  ({
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    name,
    kind: 2,
    startTime: 1,
    endTime: 2,
    shared: [],
    own: {},
  }) as unknown as FinishedSpan;
const buffer = () =>
  createSpanBuffer({ format: 'json', resource: {}, scope: { name: 'test', version: '1' }, valueLimit: 100 });
const names = (body: Uint8Array | string) =>
  (JSON.parse(body as string).resourceSpans[0].scopeSpans[0].spans as FinishedSpan[]).map((s) => s.name);
const settings = { scheduledDelayMs: 60_000, maxQueueSize: 8, maxExportBatchSize: 3, exportTimeoutMs: 200 };

function recorder() {
  const warnings: Array<{ message: string; fields: unknown }> = [];
  const logger = { ...NOOP_LOGGER, warn: (message: string, fields?: unknown) => warnings.push({ message, fields }) };
  return { warnings, logger: logger as Logger };
}

describe('the span batcher', () => {
  it('sends a full batch soon after, not inside the span that filled it, and the rest on flush', async () => {
    const batches: string[][] = [];
    const batcher = new SpanBatcher(settings, buffer(), async (body) => void batches.push(names(body)), NOOP_LOGGER);
    for (const name of ['a', 'b', 'c', 'd']) batcher.add(span(name));
    expect(batches).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(batches).toEqual([['a', 'b', 'c']]);
    await batcher.flush();
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('drops spans past the queue limit and says how many, and goes on after a collector that hangs', async () => {
    const { warnings, logger } = recorder();
    let calls = 0;
    const batcher = new SpanBatcher(
      settings,
      buffer(),
      () => {
        calls++;
        return calls === 1 ? new Promise(() => {}) : Promise.resolve();
      },
      logger,
    );
    for (let i = 0; i < 20; i++) batcher.add(span(String(i)));
    await batcher.flush();
    expect(calls).toBe(3);
    expect(warnings).toContainEqual({
      message: 'could not export spans',
      fields: { spans: 3, error: 'Error: no answer within 200 ms' },
    });
    expect(warnings).toContainEqual({
      message: 'spans dropped: the export queue is full (OTEL_BSP_MAX_QUEUE_SIZE)',
      fields: { dropped: 12 },
    });
  });
});
