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

/**
 * Opens an MCP session on `url` (initialize + notifications/initialized) over a pool of at
 * most `connections` sockets. `post(body)` sends one JSON-RPC message and resolves with
 * the status and the body text.
 */
export async function openMcpSession(url, { connections = 1 } = {}) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, POOL_OPTIONS(connections));
  const headers = { 'content-type': 'application/json', accept: ACCEPT };

  const send = async (body, extra = {}) => {
    const res = await pool.request({
      path: pathname,
      method: 'POST',
      headers: { ...headers, ...extra },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };

  const init = await send({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcp-bench', version: '1.0.0' },
    },
  });
  const sessionId = init.headers['mcp-session-id'];
  if (init.status !== 200 || typeof sessionId !== 'string') {
    await pool.close();
    throw new Error(`initialize on ${url} answered ${init.status}: ${init.text.slice(0, 300)}`);
  }
  const protocolVersion = JSON.parse(init.text).result?.protocolVersion ?? PROTOCOL_VERSION;
  Object.assign(headers, { 'mcp-session-id': sessionId, 'mcp-protocol-version': protocolVersion });
  const initialized = await send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  if (initialized.status !== 202 && initialized.status !== 200) {
    throw new Error(`notifications/initialized on ${url} answered ${initialized.status}`);
  }

  let nextId = 1;
  return {
    url,
    sessionId,
    /** Sends a request with a fresh id; resolves with { status, text }. */
    request(method, params) {
      return send(`{"jsonrpc":"2.0","id":${nextId++},"method":"${method}","params":${JSON.stringify(params)}}`);
    },
    close: () => pool.close(),
  };
}

/**
 * A pool that only opens sessions: `initialize()` sends one initialize without a session
 * header and resolves with the status (the session id is dropped, nothing is kept open).
 */
export function createInitializer(url, { connections = 64 } = {}) {
  const { origin, pathname } = new URL(url);
  const pool = new Pool(origin, POOL_OPTIONS(connections));
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcp-bench', version: '1.0.0' },
    },
  });
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
    close: () => pool.close(),
  };
}
