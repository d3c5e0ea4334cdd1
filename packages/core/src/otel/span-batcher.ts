import type { Logger } from '../logger.ts';
import type { FinishedSpan } from './otel-tracer.ts';
import type { SpanBuffer } from './otlp-encoding.ts';

/** The batch span processor's settings (OTEL_BSP_*), with the specification's defaults. */
export interface BatchSettings {
  /** Longest a span waits before its batch is sent (OTEL_BSP_SCHEDULE_DELAY, 5 000 ms). */
  readonly scheduledDelayMs: number;
  /** Spans kept waiting at most; more are dropped (OTEL_BSP_MAX_QUEUE_SIZE, 2 048). */
  readonly maxQueueSize: number;
  /** Spans in one export at most (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, 512). */
  readonly maxExportBatchSize: number;
  /** Longest one export may take, retries included (OTEL_BSP_EXPORT_TIMEOUT, 30 000 ms). */
  readonly exportTimeoutMs: number;
}

/** Sends one encoded batch; rejects when the collector did not take it. */
export type SpanExport = (body: Uint8Array | string) => Promise<void>;

/**
 * Ended spans queued (encoded at once, in `buffer`) and exported in batches, one export at a time: a full batch goes at once,
 * a partial one after the scheduled delay, everything on flush. A full queue drops new spans
 * (counted, and logged once per export) rather than hold memory for a collector that is down.
 */
export class SpanBatcher {
  #exporting: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerDue = 0;
  #dropped = 0;
  readonly #settings: BatchSettings;
  readonly #queue: SpanBuffer;
  readonly #export: SpanExport;
  readonly #logger: Logger;

  constructor(settings: BatchSettings, buffer: SpanBuffer, exporter: SpanExport, logger: Logger) {
    this.#settings = settings;
    this.#queue = buffer;
    this.#export = exporter;
    this.#logger = logger;
  }

  /** Queues an ended span (the tracer's sink). */
  readonly add = (span: FinishedSpan): void => {
    if (this.#queue.length >= this.#settings.maxQueueSize) {
      this.#dropped++;
      return;
    }
    this.#queue.push(span);
    if (this.#exporting !== undefined) return;
    // A full batch goes on the next turn of the event loop, not in the request that ended its last span.
    if (this.#queue.length >= this.#settings.maxExportBatchSize) this.#arm(0);
    else if (this.#timer === undefined) this.#arm(this.#settings.scheduledDelayMs);
  };

  /** Starts the next export after `delayMs`, unless one is due sooner. */
  #arm(delayMs: number): void {
    if (this.#timer !== undefined) {
      if (delayMs > 0 || this.#timerDue === 0) return;
      clearTimeout(this.#timer);
    }
    this.#timerDue = delayMs;
    this.#timer = setTimeout(() => this.#start(), delayMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Exports every span queued so far; resolves when they have been sent (or failed). */
  async flush(): Promise<void> {
    while (this.#exporting !== undefined || this.#queue.length > 0) {
      if (this.#exporting === undefined) this.#start();
      await this.#exporting;
    }
  }

  #start(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#exporting !== undefined || this.#queue.length === 0) return;
    const spans = Math.min(this.#queue.length, this.#settings.maxExportBatchSize);
    this.#exporting = this.#send(this.#queue.take(spans), spans).finally(() => {
      this.#exporting = undefined;
      if (this.#queue.length >= this.#settings.maxExportBatchSize) this.#arm(0);
      else if (this.#queue.length > 0) this.#arm(this.#settings.scheduledDelayMs);
    });
  }

  async #send(body: Uint8Array | string, spans: number): Promise<void> {
    if (this.#dropped > 0) {
      this.#logger.warn('spans dropped: the export queue is full (OTEL_BSP_MAX_QUEUE_SIZE)', {
        dropped: this.#dropped,
      });
      this.#dropped = 0;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${this.#settings.exportTimeoutMs} ms`)),
        this.#settings.exportTimeoutMs,
      );
    });
    try {
      await Promise.race([this.#export(body), timeout]);
    } catch (error) {
      this.#logger.warn('could not export spans', { spans, error: String(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
