import { Agent, request, type Dispatcher } from 'undici';
import type { OtlpTls } from './otlp-tls.ts';

/** The fetch-shaped POST the OTLP/HTTP sender is given on Node, and the pool it holds. */
export interface OtlpHttpPost {
  readonly fetch: typeof fetch;
  close(): void;
}

/**
 * OTLP/HTTP requests on `undici.request` over a keep-alive pool of their own (with the
 * collector's CA and client certificate when OTEL_EXPORTER_OTLP_*CERTIFICATE names them), shaped
 * as the `fetch` core's sender calls: a POST with a string or bytes body, an abort signal, and an
 * answer whose status and `retry-after` header are all the sender reads (its body is drained).
 * Node's global fetch cost about 1 ms more CPU per export of 512 spans than the request API (its
 * body copied and sent through a web stream, a Request and a Response built), and it is a second
 * HTTP client in the process besides the one that carries the calls (bench/README.md).
 */
export function createOtlpHttpPost(tls: OtlpTls): OtlpHttpPost {
  const custom = tls.ca !== undefined || tls.cert !== undefined;
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    ...(custom && { connect: { ca: tls.ca, cert: tls.cert, key: tls.key } }),
  });
  const post = async (input: Parameters<typeof fetch>[0], init: RequestInit = {}): Promise<Response> => {
    let answer: Dispatcher.ResponseData;
    try {
      answer = await request(input as string, {
        dispatcher: agent,
        method: 'POST',
        headers: init.headers as Record<string, string>,
        body: init.body as string | Uint8Array,
        signal: init.signal ?? null,
      });
    } catch (error) {
      if (init.signal?.aborted) throw init.signal.reason ?? error;
      // Shaped like fetch's network errors (the sender retries them).
      throw new TypeError('fetch failed', { cause: error });
    }
    await answer.body.dump();
    const retryAfter = answer.headers['retry-after'];
    return new Response(null, {
      status: answer.statusCode,
      headers: typeof retryAfter === 'string' ? { 'retry-after': retryAfter } : {},
    });
  };
  return { fetch: post as typeof fetch, close: () => void agent.close() };
}
