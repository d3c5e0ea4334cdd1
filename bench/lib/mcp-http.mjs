// The load generator's MCP client: JSON-RPC over one undici Pool of keep-alive
// connections, with an Mcp-Session-Id obtained once by initialize and then reused.
import { Pool } from 'undici';

const ACCEPT = 'application/json, text/event-stream';
const PROTOCOL_VERSION = '2025-06-18';
/** Keep-alive sockets; a request that stalls fails after 10 s instead of hanging the bench. */
const POOL_OPTIONS = (connections) => ({
  connections,
  pipelining: 1,
  keepAliveTimeout: 60_000,
  headersTimeout: 10_000,
  bodyTimeout: 10_000,
});

/** The initialize request of a client declaring `capabilities`. */
const initializeRequest = (capabilities = {}) =>
  JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities,
      clientInfo: { name: 'mcp-bench', version: '1.0.0' },
    },
  });
const INITIALIZE = initializeRequest();
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' });

/** `send(headers, body)` over one undici Pool of at most `connections` sockets to `url`; `close()` once or more. */
function poolSender(url, connections) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, POOL_OPTIONS(connections));
  const send = async (headers, body) => {
    const res = await pool.request({ path: pathname, method: 'POST', headers, body });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };
  let closing;
  return { send, close: () => (closing ??= pool.close()) };
}

/**
 * Opens an MCP session on `url` (initialize + notifications/initialized) over a pool of at
 * most `connections` sockets. `request(method, params, extraHeaders?)` sends one JSON-RPC request and resolves
 * with the status and the body text. With an array of URLs (gateway replicas sharing a store),
 * the session is opened on the first and its requests then rotate across all of them,
 * one pool per URL: a client-side round-robin. `host` sets the Host header (Envoy's virtual hosts);
 * `authorization` the caller's credential on every request; `capabilities` what the client
 * declares at initialize (default none).
 */
export async function openMcpSession(urls, { connections = 1, host, authorization, capabilities } = {}) {
  const list = Array.isArray(urls) ? urls : [urls];
  const senders = list.map((u) => poolSender(u, connections));
  const closeAll = () => Promise.all(senders.map((sender) => sender.close()));
  const url = list[0];
  const headers = {
    'content-type': 'application/json',
    accept: ACCEPT,
    ...(host ? { host } : {}),
    ...(authorization ? { authorization } : {}),
  };

  const init = await senders[0].send(
    headers,
    capabilities === undefined ? INITIALIZE : initializeRequest(capabilities),
  );
  const sessionId = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof sessionId !== 'string') {
    await closeAll();
    throw new Error(`initialize on ${url} answered ${init.status}: ${init.text.slice(0, 300)}`);
  }
  const protocolVersion = JSON.parse(init.text).result?.protocolVersion ?? PROTOCOL_VERSION;
  Object.assign(headers, { 'mcp-session-id': sessionId, 'mcp-protocol-version': protocolVersion });
  const initialized = await senders[0].send(headers, INITIALIZED);
  if (initialized.status !== 202 && initialized.status !== 200) {
    await closeAll();
    throw new Error(`notifications/initialized on ${url} answered ${initialized.status}`);
  }

  let nextId = 1;
  let turn = 0;
  const next = senders.length === 1 ? () => senders[0] : () => senders[turn++ % senders.length];
  return {
    url,
    urls: list,
    sessionId,
    /** Sends a request with a fresh id (to the next URL in turn); resolves with { status, text }. */
    request(method, params, extraHeaders) {
      return next().send(
        extraHeaders === undefined ? headers : { ...headers, ...extraHeaders },
        `{"jsonrpc":"2.0","id":${nextId++},"method":"${method}","params":${JSON.stringify(params)}}`,
      );
    },
    close: closeAll,
  };
}

/**
 * Opens sessions step by step over one shared pool, so that a caller can count what each
 * step costs elsewhere (Redis commands, memory): `initialize()` resolves with a session
 * handle, `initialized(session)` sends notifications/initialized, and
 * `request(session, method, params)` one request in that session. Each resolves with
 * { status, text }; `initialize()` throws when no session id comes back.
 */
export function createSessionOpener(url, { connections = 64 } = {}) {
  const { send, close } = poolSender(url, connections);
  const base = { 'content-type': 'application/json', accept: ACCEPT };
  let nextId = 1;
  return {
    async initialize() {
      const init = await send(base, INITIALIZE);
      const sessionId = init.headers['mcp-session-id'];
      if (init.status !== 200 || typeof sessionId !== 'string') {
        throw new Error(`initialize on ${url} answered ${init.status}: ${init.text.slice(0, 300)}`);
      }
      const protocolVersion = JSON.parse(init.text).result?.protocolVersion ?? PROTOCOL_VERSION;
      return { sessionId, headers: { ...base, 'mcp-session-id': sessionId, 'mcp-protocol-version': protocolVersion } };
    },
    initialized: (session) => send(session.headers, INITIALIZED),
    request: (session, method, params) =>
      send(session.headers, JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params })),
    close,
  };
}

/**
 * A pool that only opens sessions: `initialize()` sends one initialize without a session
 * header and resolves with the status (the session id is dropped, nothing is kept open);
 * `close()` once or more.
 */
export function createInitializer(url, { connections = 64 } = {}) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, POOL_OPTIONS(connections));
  const body = INITIALIZE;
  let closing;
  return {
    async initialize() {
      const res = await pool.request({
        path: pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: ACCEPT },
        body,
      });
      await res.body.dump();
      return typeof res.headers['mcp-session-id'] === 'string' ? res.statusCode : -res.statusCode;
    },
    close: () => (closing ??= pool.close()),
  };
}

/**
 * A 2026-07-28 client: no session, every request carrying the per-request `_meta` envelope and
 * the standard headers (MCP-Protocol-Version, Mcp-Method, Mcp-Name). `authorization` makes the
 * caller known, so the gateway keeps one backend session for it on legacy upstreams.
 */
export function openModernClient(url, { connections = 1, authorization } = {}) {
  const { send, close } = poolSender(url, connections);
  const base = {
    'content-type': 'application/json',
    accept: ACCEPT,
    'mcp-protocol-version': '2026-07-28',
    ...(authorization ? { authorization } : {}),
  };
  const meta = {
    'io.modelcontextprotocol/protocolVersion': '2026-07-28',
    'io.modelcontextprotocol/clientCapabilities': {},
    'io.modelcontextprotocol/clientInfo': { name: 'mcp-bench', version: '1.0.0' },
  };
  let nextId = 1;
  return {
    url,
    request(method, params) {
      const headers = { ...base, 'mcp-method': method };
      if (typeof params?.name === 'string') headers['mcp-name'] = params.name;
      return send(
        headers,
        JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params: { ...params, _meta: meta } }),
      );
    },
    close,
  };
}
