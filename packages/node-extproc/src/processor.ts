import { randomUUID } from 'node:crypto';
import { constants as http2Constants } from 'node:http2';
import { Server, ServerCredentials, type ServerDuplexStream, type ServiceDefinition } from '@grpc/grpc-js';
import {
  refusalError,
  unverified,
  type AuthRefusal,
  type Authentication,
  type RouterPhase,
  type AnswerOutcome,
  answerOutcome,
  type TraceCarrier,
} from '@mcp-gateway/core/router';
import {
  immediateResponse,
  refusalResponse,
  toHeaders,
  type HttpBody,
  type HttpHeaders,
  type ProcessingResponse,
} from './ext-proc-messages.ts';
import { loadExtProc } from './load-ext-proc.ts';
import type { ProcessorDeps } from './processor-deps.ts';
import { recordRoutedCall } from './routed-call-record.ts';
import { envoyTraceOf, headerTrace } from './stream-trace.ts';
import { translateRequestBody } from './translate-request-body.ts';
import { translateRequestHeaders } from './translate-request-headers.ts';
import { createResponseBodyTranslator, type ResponseBodyTranslator } from './translate-response-body.ts';
import { translateResponseHeaders } from './translate-response-headers.ts';
import type { UpstreamRoute } from './upstream-route.ts';

/** A decoded ProcessingRequest; `request` names the active oneof member. */
interface ProcessingRequest {
  readonly request?: string;
  readonly request_headers?: HttpHeaders;
  readonly request_body?: HttpBody;
  readonly response_headers?: HttpHeaders;
  readonly response_body?: HttpBody;
}

type ProcessStream = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/** What one stream (one HTTP request) remembers between phases. */
interface StreamState {
  requestHeaders: ReadonlyMap<string, string>;
  /** Who the request comes from: verified in the request-headers phase when verification is on. */
  auth: Authentication;
  /** The request is for one of the broker's paths that are not MCP (never routed upstream). */
  openPath: boolean;
  /** The upstream's status of a routed call, once its response headers came. */
  upstreamStatus: number | undefined;
  /** The upstream's answer to a routed call, judged, once its body brought it. */
  answer: AnswerOutcome | undefined;
  /** The routed call has been counted (once, when the exchange ends). */
  counted: boolean;
  route: UpstreamRoute | undefined;
  /** Set when the response headers switched the body to the processor (a rewrite is needed). */
  responseBody: ResponseBodyTranslator | undefined;
  /** Envoy's trace context for this request (the ext_proc call's gRPC metadata), and when the stream began. */
  readonly envoyTrace: TraceCarrier | undefined;
  readonly startTime: number;
}

/**
 * Handles one `Process` stream: one answer per phase message, in order. The stream is closed
 * cleanly as soon as the processor needs nothing more, so Envoy stops consulting it for this
 * request: after the request body of a request the broker answers, after the response headers
 * of a routed call (or the request headers, when their answer asked for nothing more), unless an
 * answer switched the response body to the processor (mode override, for a body that must be
 * rewritten); then after the body's last chunk. A phase that fails unexpectedly gets a 500
 * local reply; details go to the log under a request id, never to the client.
 * @see https://www.envoyproxy.io/docs/envoy/latest/api-v3/service/ext_proc/v3/external_processor.proto
 */
export function handleProcessStream(stream: ProcessStream, deps: ProcessorDeps): void {
  const state: StreamState = {
    requestHeaders: new Map(),
    auth: unverified(undefined),
    openPath: false,
    upstreamStatus: undefined,
    answer: undefined,
    counted: false,
    route: undefined,
    responseBody: undefined,
    envoyTrace: envoyTraceOf(stream),
    startTime: Date.now(),
  };
  // Envoy waits for each answer before the next phase, but a chain keeps order regardless.
  let queue = Promise.resolve();
  stream.on('data', (message: ProcessingRequest) => {
    queue = queue.then(() => answer(stream, message, state, deps));
  });
  stream.on('end', () => {
    // Envoy half-closed: finish once the pending answers are written (unless already ended).
    void queue.then(() => {
      if (!stream.writableEnded) stream.end();
    });
  });
  stream.on('error', (error: Error) => {
    deps.logger.debug('ext_proc stream ended by Envoy', { error: error.message });
  });
  // grpc-js signals the end of the call once it has sent the status (trailers), or once Envoy reset it.
  stream.on('cancelled', () => {
    // The exchange is over (answered, or Envoy gave up): a routed call's audit record is written.
    state.route?.trail?.finish();
    state.route?.release?.();
    countCall(state, deps);
    setImmediate(closeTransport, stream);
  });
}

/**
 * Ends the HTTP/2 stream under a finished call with RST_STREAM NO_ERROR, the server's way of
 * saying it wants no more of a request it has answered (RFC 9113 §8.1), instead of leaving it
 * open until Envoy resets it. Envoy resets each ext_proc stream it is done with, with
 * INTERNAL_ERROR, and Node turns a reset with that code into an Error with a stack that nobody
 * reads (`ERR_HTTP2_STREAM_ERROR`): 4–8 % of the router's CPU. Called in an immediate: Node
 * hands the trailers (the gRPC status) to nghttp2 in an immediate of its own, queued before, and
 * a reset submitted ahead of them would drop them. grpc-js gives no handle on the HTTP/2 stream,
 * so this takes its call's; if a grpc-js version has none, Envoy's reset still ends the stream.
 * @see https://www.rfc-editor.org/rfc/rfc9113#section-8.1
 */
function closeTransport(stream: ProcessStream): void {
  const transport = (stream as unknown as { call?: { stream?: unknown } }).call?.stream as
    { closed?: boolean; close?: (code: number) => void } | undefined;
  if (transport?.closed === false && typeof transport.close === 'function') {
    transport.close(http2Constants.NGHTTP2_NO_ERROR);
  }
}

async function answer(
  stream: ProcessStream,
  message: ProcessingRequest,
  state: StreamState,
  deps: ProcessorDeps,
): Promise<void> {
  if (stream.destroyed || stream.writableEnded) return;
  let response: ProcessingResponse | undefined;
  const started = performance.now();
  try {
    response = await translate(message, state, deps);
    if (PHASES.has(message.request ?? '')) {
      deps.metrics.routerPhase(message.request as RouterPhase, (performance.now() - started) / 1000);
    }
  } catch (error) {
    const requestId = randomUUID();
    deps.logger.error('ext_proc phase failed', { requestId, phase: message.request, error: String(error) });
    response = immediateResponse(500, `Internal error (request id ${requestId})`);
  }
  if (stream.destroyed || stream.writableEnded) return;
  if (response === undefined) {
    stream.end();
    return;
  }
  stream.write(response);
  if (isLastAnswer(message, response, state)) stream.end();
}

/**
 * Whether the processor has nothing more to say on this stream after `response`. A request-body
 * answer is the last unless the call was routed to an upstream (its response headers map the
 * session back and evict a lost backend session, or switch its body to the processor): a request
 * the broker answers costs two messages, not three.
 */
function isLastAnswer(message: ProcessingRequest, response: ProcessingResponse, state: StreamState): boolean {
  if ('immediate_response' in response) return true;
  if ('request_body' in response) return state.route === undefined;
  if ('request_headers' in response) {
    // Neither a body nor the response headers will come: the broker has it.
    const mode = response.mode_override;
    return mode?.response_header_mode === 'SKIP' && (mode.request_body_mode ?? 'NONE') === 'NONE';
  }
  if ('response_headers' in response) return response.mode_override === undefined;
  return 'response_body' in response && message.response_body?.end_of_stream === true;
}

async function translate(
  message: ProcessingRequest,
  state: StreamState,
  deps: ProcessorDeps,
): Promise<ProcessingResponse | undefined> {
  switch (message.request) {
    case 'request_headers': {
      const headers = toHeaders(message.request_headers ?? {});
      const endOfStream = message.request_headers?.end_of_stream === true;
      state.openPath = isOpenPath(headers.get(':path'));
      if (needsToken(headers, endOfStream)) {
        // Who is asking, before anything is routed: the broker's own check (401 with its challenge).
        const authenticated = await deps.access().authenticate(headers.get('authorization'));
        if (!authenticated.ok) return unauthorized(authenticated.refusal, headers, deps);
        state.auth = authenticated.auth;
      }
      const answer = translateRequestHeaders(deps.publicHost, { headers, endOfStream });
      // The answer puts the public host in `:authority`: the request as Envoy now holds it, and as
      // the broker behind Envoy would see it (its Host), is what the access decisions read.
      headers.set(':authority', deps.publicHost);
      state.requestHeaders = headers;
      return answer;
    }
    case 'request_body': {
      // A path that needs no token is the broker's alone: nothing sent there is routed upstream.
      if (state.openPath) return { request_body: {} };
      const trace = { parent: state.envoyTrace ?? headerTrace(state.requestHeaders), startTime: state.startTime };
      const result = await translateRequestBody(
        message.request_body ?? {},
        state.requestHeaders,
        deps,
        state.auth,
        trace,
      );
      state.route = result.route;
      return result.response;
    }
    case 'response_headers': {
      const headers = message.response_headers ?? {};
      const responseHeaders = toHeaders(headers);
      const status = Number(responseHeaders.get(':status'));
      if (Number.isInteger(status)) {
        state.upstreamStatus = status;
        state.route?.trail?.upstreamStatus(status);
      }
      const result = await translateResponseHeaders(
        { headers: responseHeaders, endOfStream: headers.end_of_stream === true },
        state.route,
        deps,
      );
      if (state.route !== undefined && result.bodyKind !== undefined) {
        state.responseBody = createResponseBodyTranslator(state.route, result.bodyKind, deps, (answer) => {
          state.answer = answerOutcome(answer);
        });
      }
      return result.response;
    }
    case 'response_body':
      if (state.responseBody === undefined) return undefined;
      return state.responseBody.translate(message.response_body ?? {});
    default:
      // A phase the processor does not enable (trailers, response body): closing the stream
      // cleanly lets Envoy continue without it instead of waiting for the message timeout.
      deps.logger.warn('ext_proc message for a phase the processor does not handle', { phase: message.request });
      return undefined;
  }
}

/**
 * The service definition with a response serializer that encodes each frozen answer once (the
 * request-headers answer is the same object for every request) and everything else as usual.
 */
function withEncodingCache(service: ServiceDefinition): ServiceDefinition {
  const process = service['Process'];
  if (process === undefined) throw new Error('ext_proc service definition has no Process method');
  const encoded = new WeakMap<object, Buffer>();
  const serialize = (value: object): Buffer => {
    const known = encoded.get(value);
    if (known !== undefined) return known;
    const bytes = process.responseSerialize(value);
    if (Object.isFrozen(value)) encoded.set(value, bytes);
    return bytes;
  };
  return { ...service, Process: { ...process, responseSerialize: serialize } };
}

/** Options of {@link startExtProcServer}. */
export interface ExtProcServerOptions {
  /** `host:port` to listen on; port 0 picks a free one. */
  readonly address: string;
  readonly deps: ProcessorDeps;
}

/** A listening processor. */
export interface ExtProcServer {
  readonly port: number;
  /** Stops accepting streams and waits for open ones to finish (then forces them closed). */
  stop(): Promise<void>;
}

/**
 * Serves `envoy.service.ext_proc.v3.ExternalProcessor/Process` over plaintext HTTP/2 (Envoy
 * reaches it on a local or cluster-internal address).
 */
export async function startExtProcServer(options: ExtProcServerOptions): Promise<ExtProcServer> {
  const server = new Server();
  tuneHttp2Server(server);
  server.addService(withEncodingCache(loadExtProc().service), {
    Process: (stream: ProcessStream) => handleProcessStream(stream, options.deps),
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.address, ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 5_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/**
 * Settings of grpc-js's HTTP/2 server that grpc-js offers no option for (it passes these to
 * http2.createServer, which passes them to net.Server):
 * - Envoy opens one stream per HTTP request and resets each one it is done with. Node's HTTP/2
 *   server treats a burst of resets as the "rapid reset" attack (by default more than 1000 at
 *   once or 33 a second) and closes the whole connection, failing every request in flight on
 *   it. The processor only ever talks to its own Envoy, so that protection is lifted here.
 * - `noDelay`: every answer is a small frame Envoy waits for, so Nagle's algorithm must not
 *   hold one back until the previous one is acknowledged.
 */
function tuneHttp2Server(server: Server): void {
  const internals = server as unknown as { commonServerOptions?: Record<string, unknown> };
  if (internals.commonServerOptions === undefined) return;
  internals.commonServerOptions['streamResetBurst'] = Number.MAX_SAFE_INTEGER;
  internals.commonServerOptions['streamResetRate'] = Number.MAX_SAFE_INTEGER;
  internals.commonServerOptions['noDelay'] = true;
}

/**
 * Whether the router checks the request's token: on the MCP endpoint, where it may route a
 * request upstream (not a CORS preflight). Every other path is the broker's, which asks a token
 * where it needs one: the protected resource metadata, which a client reads to get its first
 * token, the probes and the /tokens pages (whose browser user signs in by cookie) stay
 * reachable through Envoy as they are on the broker.
 */
function needsToken(headers: ReadonlyMap<string, string>, endOfStream: boolean): boolean {
  const path = (headers.get(':path') ?? '').split('?')[0];
  if (path !== MCP_PATH) return false;
  return !endOfStream || headers.get(':method') !== 'OPTIONS';
}

/** The path of the broker's MCP endpoint. */
const MCP_PATH = '/mcp';

/** The request-headers answer refusing a request whose credential did not pass: the broker's 401 (403, 503). */
function unauthorized(
  refusal: AuthRefusal,
  headers: ReadonlyMap<string, string>,
  deps: ProcessorDeps,
): ProcessingResponse {
  const url = `${headers.get(':scheme') ?? 'http'}://${headers.get(':authority') ?? deps.publicHost}${headers.get(':path') ?? '/mcp'}`;
  deps.logger.debug('request refused by token verification', { status: refusal.status, reason: refusal.description });
  return refusalResponse(refusalError(refusal), null, deps.logger, {
    'www-authenticate': deps.access().challenge(refusal, url),
  });
}

/**
 * Every path but the MCP endpoint is the broker's: the protected resource metadata, /status,
 * the probes, /metrics, the /tokens pages (a form post there is no JSON-RPC). Whatever a request
 * to one of them carries, it is never routed upstream; the broker checks what it needs itself.
 */
function isOpenPath(path: string | undefined): boolean {
  return (path ?? '').split('?')[0] !== MCP_PATH;
}

const PHASES: ReadonlySet<string> = new Set(['request_headers', 'request_body', 'response_headers', 'response_body']);

/** Records a routed call once, when its exchange ended (see recordRoutedCall). */
function countCall(state: StreamState, deps: ProcessorDeps): void {
  if (state.route?.call === undefined || state.counted) return;
  state.counted = true;
  recordRoutedCall(state.route, state.upstreamStatus, state.answer, deps);
}
