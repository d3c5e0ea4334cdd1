import type { Logger } from '../logger.ts';
import { whenSent } from '../protocol/when-sent.ts';
import {
  metaCarrier,
  NO_SPAN,
  type GatewaySpan,
  type GatewayTracer,
  type SpanAttributes,
} from '../telemetry/gateway-tracer.ts';

/**
 * The trace of one request to the endpoint: its span opens once the request is understood
 * (named by its MCP method), starting when the request arrived; its parent is the caller's
 * W3C `traceparent` header (Envoy's span when Envoy traces), else the one in the request's
 * `params._meta`. Its log lines carry the trace id.
 */
export class RequestTrace {
  #span: GatewaySpan = NO_SPAN;
  #opened = false;
  readonly #startTime: number;

  constructor(
    private readonly tracer: GatewayTracer,
    private readonly headers: Headers,
    started: number,
  ) {
    this.#startTime = performance.timeOrigin + started;
  }

  get span(): GatewaySpan {
    return this.#span;
  }

  /** Opens the request's span (once; later calls rename it). */
  open(name: string, attributes: SpanAttributes, params?: unknown): GatewaySpan {
    if (this.#opened) {
      this.#span.rename(name);
      this.#span.set(attributes);
      return this.#span;
    }
    this.#opened = true;
    const header = this.headers.get('traceparent');
    const parent =
      header !== null
        ? { traceparent: header, tracestate: this.headers.get('tracestate') }
        : params === undefined
          ? undefined
          : metaCarrier(params);
    if (!this.tracer.enabled && parent === undefined) return NO_SPAN;
    this.#span = this.tracer.server(name, parent, { 'network.protocol.name': 'http', ...attributes }, this.#startTime);
    return this.#span;
  }

  /** The request's logger: its lines carry the trace id when the request has one. */
  logger(base: Logger): Logger {
    const traceId = this.#span.traceId;
    return traceId === undefined ? base : base.child({ trace_id: traceId });
  }

  /** Ends the span with the HTTP status, once the answer's body has been sent (or at once without one). */
  finish(response: Response): Response {
    const span = this.#span;
    if (span === NO_SPAN || !span.recording) return response;
    span.set({ 'http.response.status_code': response.status });
    if (response.status >= 400) span.fail(String(response.status));
    return whenSent(response, () => span.end());
  }
}
