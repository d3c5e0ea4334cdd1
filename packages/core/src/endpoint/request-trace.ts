import { lazyChild, type Logger } from '../logger.ts';
import { isEventStream, whenSent } from '../protocol/when-sent.ts';
import { mcpServerAttributes } from '../telemetry/mcp-spans.ts';
import { metaCarrier, NO_SPAN, type GatewaySpan, type GatewayTracer } from '../telemetry/gateway-tracer.ts';

/**
 * The trace of one request to the endpoint: its span opens once the request is understood
 * (named by its MCP method), starting when the request arrived; its parent is the caller's
 * W3C `traceparent` header (Envoy's span when Envoy traces), else the one in the request's
 * `params._meta`. Its log lines carry the trace id.
 */
const NO_ATTRIBUTES = Object.freeze({});

export class RequestTrace {
  #span: GatewaySpan = NO_SPAN;
  #opened = false;
  readonly #startTime: number;
  readonly #tracer: GatewayTracer;
  readonly #headers: Headers;

  constructor(tracer: GatewayTracer, headers: Headers, started: number) {
    this.#tracer = tracer;
    this.#headers = headers;
    this.#startTime = performance.timeOrigin + started;
  }

  get span(): GatewaySpan {
    return this.#span;
  }

  /**
   * Opens the request's span (once): named by its method, with `mcp.method.name` and
   * `jsonrpc.request.id` when it is a request; `params` may carry the caller's context.
   */
  open(method: string, id?: unknown, params?: unknown): GatewaySpan {
    if (this.#opened) return this.#span;
    this.#opened = true;
    const header = this.#headers.get('traceparent');
    const parent =
      header !== null
        ? { traceparent: header, tracestate: this.#headers.get('tracestate') }
        : params === undefined
          ? undefined
          : metaCarrier(params);
    if (!this.#tracer.enabled) {
      // Off: a caller's context is passed on as it came; nothing else is built.
      if (parent !== undefined) this.#span = this.#tracer.server(method, parent, NO_ATTRIBUTES);
      return this.#span;
    }
    const span = this.#tracer.server(method, parent, mcpServerAttributes(method), this.#startTime);
    span.requestId(id);
    this.#span = span;
    return span;
  }

  /** The request's logger: its lines carry the trace id when the request has one. */
  logger(base: Logger): Logger {
    const traceId = this.#span.traceId;
    return traceId === undefined ? base : lazyChild(base, { trace_id: traceId });
  }

  /**
   * Ends the span with the HTTP status: a stream once it has been sent, any other answer (whole
   * by now) at once.
   */
  finish(response: Response): Response {
    const span = this.#span;
    if (span === NO_SPAN || !span.recording) return response;
    if (response.status >= 400) {
      span.set({ 'http.response.status_code': response.status });
      span.fail(String(response.status));
    }
    if (!isEventStream(response)) {
      span.end();
      return response;
    }
    return whenSent(response, () => span.end());
  }
}
