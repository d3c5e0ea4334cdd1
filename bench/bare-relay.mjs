// A reference point, not a gateway: the least a Node HTTP relay can do per request
// (bodies passed through as bytes, no JSON parsing, no sessions, no logging). Measured
// beside the gateway, it shows how much of the gateway's cost is the extra hop itself on
// this machine and how much is the gateway's own work.
//
//   node bench/bare-relay.mjs <upstream url> [in] [out]
//
// in:  node (default) node:http handler | hono  Hono app on @hono/node-server (web Request/Response),
//      reading the body with request.arrayBuffer() | hono-reader  same, reading request.body's reader
// out: undici (default) undici Pool.request | fetch  global fetch (what the gateway uses)
//      | adapter  bench/lib/undici-fetch.mjs, a fetch-shaped function on undici.request
// `npm run bench` uses node + undici; bench/diag-relay.mjs compares the four.
// Prints `BENCH_RELAY_READY {"url":…}` once listening; exits on SIGTERM/SIGINT.
import { createServer } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Pool } from 'undici';
import { undiciFetch } from './lib/undici-fetch.mjs';

const [targetArg, inbound = 'node', outbound = 'undici'] = process.argv.slice(2);
const target = new URL(targetArg);
const pool = new Pool(target.origin, { connections: 128, keepAliveTimeout: 60_000 });
const FORWARDED = ['content-type', 'accept', 'mcp-session-id', 'mcp-protocol-version', 'authorization'];

/** Sends the body upstream; resolves with status, content type, session id and the whole body. */
async function forward(headers, body) {
  if (outbound === 'fetch' || outbound === 'adapter') {
    // As the gateway does: an abort controller and a timer per call.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 30_000);
    const send = outbound === 'fetch' ? fetch : undiciFetch;
    const response = await send(target, { method: 'POST', headers, body, signal: abort.signal });
    clearTimeout(timer);
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      session: response.headers.get('mcp-session-id'),
      body: await response.text(),
    };
  }
  const response = await pool.request({ path: target.pathname, method: 'POST', headers, body });
  return {
    status: response.statusCode,
    type: response.headers['content-type'],
    session: response.headers['mcp-session-id'],
    body: await response.body.text(),
  };
}

const responseHeaders = (answer) => {
  const out = { 'content-type': answer.type ?? 'application/json' };
  if (typeof answer.session === 'string') out['mcp-session-id'] = answer.session;
  return out;
};

async function nodeHandler(req, res) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const headers = {};
  for (const name of FORWARDED) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
  const answer = await forward(headers, Buffer.concat(chunks));
  res.writeHead(answer.status, responseHeaders(answer)).end(answer.body);
}

/** Reads a web Request's body through its ReadableStream reader, as core's readBody does. */
async function readAll(request) {
  const reader = request.body.getReader();
  const chunks = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

function listen(onReady) {
  if (inbound.startsWith('hono')) {
    const app = new Hono();
    app.post('/mcp', async (c) => {
      const headers = {};
      for (const name of FORWARDED) {
        const value = c.req.raw.headers.get(name);
        if (value !== null) headers[name] = value;
      }
      const answer = await forward(
        headers,
        inbound === 'hono-reader' ? await readAll(c.req.raw) : new Uint8Array(await c.req.raw.arrayBuffer()),
      );
      return new Response(answer.body, { status: answer.status, headers: responseHeaders(answer) });
    });
    return serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => onReady(info.port));
  }
  const server = createServer((req, res) => {
    nodeHandler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
  });
  server.listen(0, '127.0.0.1', () => onReady(server.address().port));
  return server;
}

const server = listen((port) => {
  process.stdout.write(`BENCH_RELAY_READY ${JSON.stringify({ url: `http://127.0.0.1:${port}/mcp` })}\n`);
});
server.keepAliveTimeout = 65_000;
const shutdown = () => {
  server.closeAllConnections?.();
  server.close();
  void pool.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
