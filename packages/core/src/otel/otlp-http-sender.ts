import { withExportRetries } from './export-retry.ts';
import type { OtlpSender } from './otel-tracing.ts';

/** Options of {@link createOtlpHttpSender}. */
export interface OtlpHttpSenderOptions {
  /** The traces endpoint (see otlpTracesUrl). */
  readonly url: string;
  /** OTLP/JSON instead of OTLP/protobuf. */
  readonly json: boolean;
  /** Headers for the collector (OTEL_EXPORTER_OTLP_HEADERS). */
  readonly headers: Readonly<Record<string, string>>;
  /** Gzip the body (OTEL_EXPORTER_OTLP_COMPRESSION=gzip). */
  readonly gzip: boolean;
  /** Longest one export may take, retries included (OTEL_EXPORTER_OTLP_TIMEOUT). */
  readonly timeoutMs: number;
  /** How the host sends a request (the runtime's fetch, or one with the collector's TLS settings). */
  readonly fetch: typeof fetch;
  /** Releases what `fetch` holds (its connection pool), at shutdown. */
  readonly close?: (() => void) | undefined;
}

/** Answers the OTLP specification says to retry. */
const RETRYABLE = new Set([429, 502, 503, 504]);

class CollectorAnswer extends Error {
  readonly status: number;
  readonly retryAfterMs: number | undefined;

  constructor(status: number, retryAfterMs: number | undefined) {
    super(`the collector answered ${status}`);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
  }
}

function retryAfterMs(header: string | null): number | undefined {
  const seconds = Number(header);
  return header !== null && Number.isFinite(seconds) && seconds >= 0 ? seconds * 1_000 : undefined;
}

async function gzipped(body: Uint8Array | string): Promise<Uint8Array> {
  const stream = new Blob([body as BlobPart]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * OTLP over HTTP with the host's fetch, for Node and workerd alike: POST to the traces URL, a
 * retry with exponential backoff (and the collector's Retry-After) on a network error, 429, 502,
 * 503 or 504 while the timeout allows, and an error naming the answer otherwise.
 * @see https://opentelemetry.io/docs/specs/otlp/#otlphttp
 */
export function createOtlpHttpSender(options: OtlpHttpSenderOptions): OtlpSender {
  const { url, timeoutMs } = options;
  const headers: Record<string, string> = {
    ...options.headers,
    'content-type': options.json ? 'application/json' : 'application/x-protobuf',
    ...(options.gzip && { 'content-encoding': 'gzip' }),
  };
  const post = async (body: Uint8Array | string, signal: AbortSignal): Promise<void> => {
    const response = await options.fetch(url, {
      method: 'POST',
      headers,
      body: body as BodyInit,
      signal,
    });
    await response.body?.cancel();
    if (!response.ok) throw new CollectorAnswer(response.status, retryAfterMs(response.headers.get('retry-after')));
  };
  return {
    format: options.json ? 'json' : 'protobuf',
    ...(options.close !== undefined && { close: options.close }),
    async send(encoded) {
      const body = options.gzip ? await gzipped(encoded) : encoded;
      await withExportRetries(
        timeoutMs,
        (remainingMs) => post(body, AbortSignal.timeout(remainingMs)),
        (error) =>
          error instanceof CollectorAnswer
            ? { retryable: RETRYABLE.has(error.status), retryAfterMs: error.retryAfterMs }
            : { retryable: true },
      );
    },
  };
}
