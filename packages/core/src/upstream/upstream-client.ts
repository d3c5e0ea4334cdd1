import type { ServerConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { JsonObject, ListCacheHint, UpstreamCallOptions, UpstreamSession } from './types.ts';
import { isGatewayError } from '../errors.ts';
import { isUpstreamRpcError, isUpstreamSessionExpiredError, upstreamProtocolError } from './upstream-errors.ts';
import { isJsonObject, readRpcResult, type ExchangeContext, type RpcId } from './upstream-exchange.ts';
import type { UpstreamHeaderSession } from './upstream-headers.ts';
import { createUpstreamHttp, type UpstreamHttp } from './upstream-http.ts';
import { listAllPages, type UpstreamListKind } from './upstream-list.ts';
import { modernRequestHeaders, withModernEnvelope } from './modern-envelope.ts';
import { MODERN_PROTOCOL_VERSION } from '../protocol/versions.ts';
import { discoverModern } from './upstream-discovery.ts';
import { openUpstreamStream, type NotificationStreamOutcome } from './upstream-stream.ts';
import {
  PROPOSED_PROTOCOL_VERSION,
  protocolErrorFromInitializeResult,
  protocolErrorFromRpcError,
} from './upstream-protocol.ts';

/** Default per-request deadline. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 30_000;

/** Default `clientInfo` of the gateway's initialize. */
export const DEFAULT_CLIENT_INFO = { name: 'mcp-gateway', version: '0.1.0' } as const;

/** Options of {@link UpstreamClient.listAll}. */
export interface UpstreamListOptions extends UpstreamCallOptions {
  /** Receives the cache hint of a 2026-07-28 list (its first page's ttlMs and cacheScope). */
  readonly onCacheHint?: (hint: ListCacheHint) => void;
}

/** Options of {@link UpstreamClient.initialize}. */
export interface UpstreamInitializeOptions extends UpstreamCallOptions {
  /** Client capabilities declared to the upstream. Defaults to `{}`. */
  readonly capabilities?: JsonObject;
  /** Whether the server's `credential` is sent. Defaults to true; false for sessions made on a client's behalf. */
  readonly useCredential?: boolean;
}

/** Options of {@link createUpstreamClient}. */
export interface UpstreamClientOptions {
  readonly server: ServerConfig;
  /** Defaults to `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** Deadline of each request, headers and body. Defaults to {@link DEFAULT_UPSTREAM_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Defaults to {@link DEFAULT_CLIENT_INFO}. */
  readonly clientInfo?: { readonly name: string; readonly version: string };
  readonly logger: Logger;
}

/**
 * The gateway's own MCP client for one upstream over Streamable HTTP, legacy era
 * (2024-11-05 … 2025-11-25). Stateless apart from a JSON-RPC id counter and the last SSE event
 * id per session; one client serves any number of sessions.
 */
export interface UpstreamClient {
  readonly server: ServerConfig;
  /**
   * Initializes a session (proposing 2025-11-25) and sends `notifications/initialized`.
   * A version outside LEGACY_PROTOCOL_VERSIONS, or a 2026-07-28-only upstream, rejects with
   * UPSTREAM_PROTOCOL_ERROR; other JSON-RPC errors reject with UpstreamRpcError.
   */
  initialize(options?: UpstreamInitializeOptions): Promise<UpstreamSession>;
  /**
   * Connects in the upstream's own era: asks `server/discover` first and, when the upstream
   * offers 2026-07-28, resolves a sessionless modern session (every later request carries the
   * per-request envelope and standard headers); otherwise initializes a legacy session. Once an
   * upstream proved legacy, later connects go straight to initialize.
   */
  connect(options?: UpstreamCallOptions): Promise<UpstreamSession>;
  /**
   * Sends a request and resolves with its `result` (JSON or SSE answer; upstream `ping`s are
   * answered). Rejects with UpstreamRpcError, UpstreamSessionExpiredError (404),
   * UPSTREAM_UNAVAILABLE, UPSTREAM_PROTOCOL_ERROR or UPSTREAM_TIMEOUT.
   */
  request(
    session: UpstreamSession,
    method: string,
    params?: JsonObject,
    options?: UpstreamCallOptions,
  ): Promise<JsonObject>;
  /** Sends a notification (the upstream answers 202). Rejects like `request`. */
  notify(session: UpstreamSession, method: string, params?: JsonObject, options?: UpstreamCallOptions): Promise<void>;
  /** Lists every item of `kind`, following `nextCursor` (at most 1000 pages, no repeated cursor). */
  listAll(session: UpstreamSession, kind: UpstreamListKind, options?: UpstreamListOptions): Promise<JsonObject[]>;
  /**
   * Opens the standalone GET stream and delivers its notifications to `onMessage` (upstream
   * requests are answered, not delivered: `ping` with `{}`, others with -32601). Resolves
   * 'unsupported' on 404/405 or a non-SSE answer, 'ended' when the stream closes or `signal`
   * aborts; rejects on network errors. Reopening resumes with `Last-Event-ID`.
   */
  openNotificationStream(
    session: UpstreamSession,
    onMessage: (message: JsonObject) => void,
    signal: AbortSignal,
  ): Promise<NotificationStreamOutcome>;
  /**
   * Ends the session with DELETE (405 ignored). Never throws. `options.headers` carry the
   * client's identity when the session was made on its behalf (then pass a session with
   * `useCredential: false`, as `initialize` returned it).
   */
  close(session: UpstreamSession, options?: UpstreamCallOptions): Promise<void>;
}

/**
 * Creates the client of one upstream.
 * @see MCP 2025-11-25 basic/transports §Streamable HTTP, basic/lifecycle §Initialization
 */
export function createUpstreamClient(options: UpstreamClientOptions): UpstreamClient {
  const { server } = options;
  const logger = options.logger.child({ server: server.name });
  const http = createUpstreamHttp({
    server,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    timeoutMs: options.timeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
  });
  const clientInfo = options.clientInfo ?? DEFAULT_CLIENT_INFO;
  const lastEventIds = new WeakMap<UpstreamSession, string>();
  let nextId = 0;
  const issueId = (): RpcId => ++nextId;

  async function exchange(
    session: UpstreamHeaderSession,
    method: string,
    params: JsonObject | undefined,
    call: UpstreamCallOptions,
    onResponse?: (response: Response) => void,
  ): Promise<JsonObject> {
    const id = issueId();
    const modern = session.protocolVersion === MODERN_PROTOCOL_VERSION;
    const sent = modern ? withModernEnvelope(params, { clientInfo }) : params;
    const body = { jsonrpc: '2.0', id, method, ...(sent === undefined ? {} : { params: sent }) };
    const headers = modern ? { ...modernRequestHeaders(method, sent), ...call.headers } : call.headers;
    return http.deadline(method, call.signal, async (signal) => {
      const response = await http.send({ method: 'POST', session, body, headers, signal, what: method });
      await http.ensureOk(response, session, method);
      onResponse?.(response);
      const context: ExchangeContext = {
        server: server.name,
        method,
        signal,
        onServerRequest: (message) => answerServerRequest(http, session, message, signal, call.headers, logger),
        resume: async (lastEventId) => {
          const headers = { ...call.headers, 'last-event-id': lastEventId };
          const resumed = await http.send({ method: 'GET', session, headers, signal, what: method });
          await http.ensureOk(resumed, session, method);
          return resumed;
        },
      };
      try {
        return await readRpcResult(response, id, context);
      } catch (error) {
        // Body-read failures (reset connection) surface as bare TypeErrors; name the upstream.
        if (
          signal.aborted ||
          isGatewayError(error) ||
          isUpstreamRpcError(error) ||
          isUpstreamSessionExpiredError(error)
        )
          throw error;
        throw http.unavailable(method, error);
      }
    });
  }

  async function notify(
    session: UpstreamSession,
    method: string,
    params?: JsonObject,
    call: UpstreamCallOptions = {},
  ): Promise<void> {
    const body = { jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) };
    await http.deadline(method, call.signal, async (signal) => {
      const response = await http.send({ method: 'POST', session, body, headers: call.headers, signal, what: method });
      await http.ensureOk(response, session, method);
      await response.body?.cancel();
    });
  }

  async function close(session: UpstreamSession, call: UpstreamCallOptions = {}): Promise<void> {
    lastEventIds.delete(session);
    if (session.sessionId === undefined) return;
    try {
      await http.deadline('DELETE', call.signal, async (signal) => {
        const response = await http.send({ method: 'DELETE', session, headers: call.headers, signal, what: 'DELETE' });
        await response.body?.cancel();
        if (!response.ok && response.status !== 405)
          logger.debug('upstream refused to end the session', { status: response.status });
      });
    } catch (error) {
      logger.debug('upstream session close failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }

  let provedLegacy = false;

  /**
   * Whether a 2026-07-28 upstream also speaks the legacy era: an initialize (its session closed
   * at once) that it accepts. Resolves the version it negotiated, or undefined.
   */
  async function probeLegacy(call: UpstreamCallOptions): Promise<string | undefined> {
    let session: UpstreamSession;
    try {
      session = await client.initialize(call);
    } catch {
      return undefined;
    }
    void close(session);
    logger.debug('upstream of both eras: it accepts initialize too', { version: session.protocolVersion });
    return session.protocolVersion;
  }

  const client: UpstreamClient = {
    server,

    async connect(call = {}) {
      if (!provedLegacy) {
        const modern = await discoverModern({ http, server, clientInfo, logger, issueId }, call);
        if (modern !== undefined) {
          // server/discover lists the 2026-07-28 revisions only (older ones are negotiated by
          // initialize): an upstream of both eras shows itself by accepting an initialize too.
          const legacy = await probeLegacy(call);
          if (legacy === undefined) return modern;
          return { ...modern, supportedVersions: [...(modern.supportedVersions ?? []), legacy] };
        }
      }
      const session = await client.initialize(call);
      provedLegacy = true;
      return session;
    },

    async initialize(init = {}) {
      const useCredential = init.useCredential ?? true;
      const headerSession = { useCredential };
      let sessionId: string | undefined;
      const params = {
        protocolVersion: PROPOSED_PROTOCOL_VERSION,
        capabilities: init.capabilities ?? {},
        clientInfo: { ...clientInfo },
      };
      let result: JsonObject;
      try {
        result = await exchange(headerSession, 'initialize', params, init, (response) => {
          sessionId = response.headers.get('mcp-session-id') ?? undefined;
        });
      } catch (error) {
        if (isUpstreamRpcError(error)) throw protocolErrorFromRpcError(error.code, error.data) ?? error;
        throw error;
      }
      const session = toSession(result, sessionId, useCredential);
      const versionError = protocolErrorFromInitializeResult(result);
      if (versionError !== undefined || (sessionId !== undefined && !/^[\x21-\x7e]+$/.test(sessionId))) {
        void close(session);
        throw (
          versionError ??
          upstreamProtocolError(`upstream ${server.name} issued a session id with characters outside visible ASCII`)
        );
      }
      await notify(session, 'notifications/initialized', undefined, init);
      logger.debug('upstream session initialized', {
        protocolVersion: session.protocolVersion,
        hasSession: sessionId !== undefined,
      });
      return session;
    },

    request: (session, method, params, call = {}) => exchange(session, method, params, call),

    notify,

    listAll(session, kind, call = {}) {
      return listAllPages(
        server.name,
        kind,
        (method, params) => exchange(session, method, params, call),
        (count) => logger.warn('upstream listed items that are not objects; dropped', { kind, count }),
        (result) => {
          const { ttlMs, cacheScope } = result;
          if (call.onCacheHint === undefined || typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs < 0)
            return;
          call.onCacheHint({ ttlMs, cacheScope: cacheScope === 'public' ? 'public' : 'private' });
        },
      );
    },

    openNotificationStream(session, onMessage, signal) {
      if (session.protocolVersion === MODERN_PROTOCOL_VERSION) {
        const params = withModernEnvelope(
          { notifications: { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true } },
          { clientInfo },
        );
        return openUpstreamStream({
          http,
          session,
          signal,
          lastEventId: undefined,
          onEventId: () => {},
          onMessage,
          onServerRequest: async () => {},
          logger,
          listen: { id: issueId(), params, headers: modernRequestHeaders('subscriptions/listen', params) },
        });
      }
      return openUpstreamStream({
        http,
        session,
        signal,
        lastEventId: lastEventIds.get(session),
        onEventId: (id) => lastEventIds.set(session, id),
        onMessage,
        onServerRequest: (message) => answerServerRequest(http, session, message, signal, undefined, logger),
        logger,
      });
    },

    close,
  };
  return client;
}

function toSession(result: JsonObject, sessionId: string | undefined, useCredential: boolean): UpstreamSession {
  const { protocolVersion, capabilities, serverInfo, instructions } = result;
  return {
    protocolVersion: typeof protocolVersion === 'string' ? protocolVersion : '',
    capabilities: isJsonObject(capabilities) ? capabilities : {},
    ...(sessionId === undefined ? {} : { sessionId }),
    ...(isJsonObject(serverInfo) ? { serverInfo } : {}),
    ...(typeof instructions === 'string' ? { instructions } : {}),
    ...(useCredential ? {} : { useCredential: false }),
  };
}

/**
 * Answers a request the upstream sent on a stream: `ping` with an empty result, anything else
 * with -32601 (the gateway's own connection declares no client capabilities). Never throws.
 * @see MCP 2025-11-25 basic/utilities/ping
 */
async function answerServerRequest(
  http: UpstreamHttp,
  session: UpstreamHeaderSession,
  message: JsonObject,
  signal: AbortSignal,
  headers: Readonly<Record<string, string>> | undefined,
  logger: Logger,
): Promise<void> {
  const id = message['id'];
  const body =
    message['method'] === 'ping'
      ? { jsonrpc: '2.0', id, result: {} }
      : { jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } };
  try {
    const response = await http.send({ method: 'POST', session, body, headers, signal, what: 'a response' });
    await response.body?.cancel();
    if (!response.ok)
      logger.debug('upstream refused the answer to its request', {
        status: response.status,
        method: message['method'],
      });
  } catch (error) {
    logger.debug('could not answer an upstream request', {
      error: error instanceof Error ? error.message : String(error),
    });
  }
}
