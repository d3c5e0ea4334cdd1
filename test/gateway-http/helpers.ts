// Helpers shared by the gateway-http suites: raw JSON-RPC over fetch, session set-up,
// bearer and session tokens made with jose, and an SDK upstream with a tool and a prompt.
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SignJWT } from 'jose';
import { z } from 'zod';
import type { RunningGateway } from '../harness/index.ts';

/** Headers every Streamable HTTP POST carries. */
export const POST_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

/** A JSON-RPC error object as it arrives in a response body. */
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** One HTTP exchange with the MCP endpoint, the JSON-RPC response parsed from JSON or SSE. */
export interface Reply {
  status: number;
  headers: Headers;
  /** The JSON body, or an SSE body's response message; undefined for an empty or other body. */
  json: { jsonrpc?: string; id?: unknown; result?: unknown; error?: RpcError } | undefined;
  text: string;
}

/** POSTs `body` (serialised unless already a string) to `url` with the MCP headers plus `headers`. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...POST_HEADERS, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return toReply(response);
}

/**
 * POSTs like `post` but with the given Host header, which fetch does not let a caller set
 * (a DNS rebinding attacker's page reaches the gateway under the attacker's host name).
 */
export function postWithHost(
  url: string,
  host: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      url,
      { method: 'POST', headers: { ...POST_HEADERS, ...headers, host, 'content-length': Buffer.byteLength(payload) } },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('error', reject);
        incoming.on('end', () => {
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(incoming.headers)) {
            if (typeof value === 'string') responseHeaders.set(name, value);
          }
          const response = new Response(Buffer.concat(chunks), {
            status: incoming.statusCode ?? 0,
            headers: responseHeaders,
          });
          toReply(response).then(resolve, reject);
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(payload);
  });
}

/** Reads a response whole and parses its JSON-RPC response (JSON body or SSE stream). */
export async function toReply(response: Response): Promise<Reply> {
  const text = await response.text();
  const contentType = response.headers.get('content-type') ?? '';
  let json: Reply['json'];
  if (contentType.includes('application/json') && text !== '') {
    json = JSON.parse(text) as Reply['json'];
  } else if (contentType.includes('text/event-stream')) {
    // A relayed call: the response is the stream's last message with a result or an error.
    const messages = text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)) as NonNullable<Reply['json']>);
    json = messages.findLast((message) => 'result' in message || 'error' in message);
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** An initialize request as a client of `protocolVersion` sends it. */
export function initializeRequest(protocolVersion = '2025-11-25', id: number | string = 1) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'gateway-http-test', version: '1.0.0' } },
  };
}

/** A JSON-RPC request with a fresh id. */
export function request(method: string, params?: Record<string, unknown>) {
  return { jsonrpc: '2.0', id: randomUUID(), method, ...(params === undefined ? {} : { params }) };
}

/**
 * Initializes a session (with `headers`, e.g. authorization) and sends
 * notifications/initialized; resolves with the session id.
 */
export async function openSession(url: string, headers: Record<string, string> = {}): Promise<string> {
  const reply = await post(url, initializeRequest(), headers);
  const sessionId = reply.headers.get('mcp-session-id');
  if (reply.status !== 200 || sessionId === null) {
    throw new Error(`initialize failed: ${reply.status} ${reply.text}`);
  }
  const initialized = await post(
    url,
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    { ...headers, 'mcp-session-id': sessionId },
  );
  if (initialized.status !== 202) throw new Error(`notifications/initialized failed: ${initialized.status}`);
  return sessionId;
}

/** Headers of a request on an established session. */
export function onSession(sessionId: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', ...extra };
}

/**
 * A bearer JWT as an identity provider would issue it. Signed with a throwaway key: the gateway
 * binds sessions to the token's iss and sub and leaves signature checks to the policy in front.
 */
export async function bearerJwt(claims: { sub: string; iss?: string }): Promise<string> {
  const key = new TextEncoder().encode(`idp-key-${randomUUID()}`);
  const token = await new SignJWT({ scope: 'basic' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(claims.iss ?? 'https://idp.example.com')
    .setSubject(claims.sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
  return `Bearer ${token}`;
}

/** A gateway session token signed with `key`: the shape the gateway issues, with `exp` chosen. */
export async function signSessionToken(key: string, exp: number): Promise<string> {
  return new SignJWT({ pv: '2025-11-25', cap: {} })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer('mcp-gateway')
    .setAudience('mcp-gateway')
    .setJti(randomUUID())
    .setIssuedAt(exp - 3600)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(key));
}

/** Registers the tool `echo` and the prompt `greet` on an SDK upstream. */
export function echoAndGreet(server: McpServer): void {
  server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text: `echo: ${text}` }],
  }));
  server.registerPrompt('greet', { description: 'Greets someone', argsSchema: { who: z.string() } }, ({ who }) => ({
    messages: [{ role: 'user', content: { type: 'text', text: `Hello, ${who}` } }],
  }));
}

/**
 * The value of the first sample line `name{labels} value` of a Prometheus exposition whose
 * labels include `labels`, or undefined.
 */
export function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    const parts = inside.split(',');
    if (wanted.every((pair) => parts.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

/** A config with one server per entry. */
export function configYaml(servers: readonly { name: string; url: string; prefix: string }[]): string {
  if (servers.length === 0) return 'servers: []\n';
  return `servers:\n${servers
    .map((s) => `  - name: ${JSON.stringify(s.name)}\n    url: ${s.url}\n    prefix: ${JSON.stringify(s.prefix)}\n`)
    .join('')}`;
}

/**
 * Calls `read` until `done` holds of its result or `timeoutMs` passes (then throws with the
 * last value); resolves with the value that satisfied it.
 */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 15_000, what = 'condition' }: { timeoutMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** GET /status as JSON. */
export async function readStatus(gateway: RunningGateway): Promise<StatusBody> {
  const response = await fetch(`${gateway.baseUrl}/status`);
  return (await response.json()) as StatusBody;
}

/** Polls /status until `done` holds of it; resolves with that status. */
export function waitForStatus(
  gateway: RunningGateway,
  done: (status: StatusBody) => boolean,
  what = 'a /status condition',
): Promise<StatusBody> {
  return pollUntil(() => readStatus(gateway), done, { what });
}

/** Resolves once `count` upstreams report ready in /status. */
export function waitForHealthy(gateway: RunningGateway, count: number): Promise<StatusBody> {
  return waitForStatus(gateway, (status) => status.healthyServers >= count, `${count} healthy upstream(s) in /status`);
}

/** The /status body (the anchor's shape). */
export interface StatusBody {
  servers: ServerStatusBody[];
  overallValid: boolean;
  totalServers: number;
  healthyServers: number;
  unHealthyServers: number;
  toolConflicts: number;
  timestamp: string;
}

/** One server of /status. */
export interface ServerStatusBody {
  id: string;
  name: string;
  prefix: string;
  ready: boolean;
  totalTools: number;
  totalPrompts: number;
  invalidTools: number;
  message: string;
  protocolValidation: { isValid: boolean; supportedVersion: string; expectedVersion: string };
  lastValidated?: string;
}
