import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import { startModernUpstream } from './modern-upstream.ts';
import { startSdkUpstream } from './sdk-upstream.ts';

/** Who a request came from, as the whoami upstream tells it (the `whoami` tool's result text is this as JSON). */
export type Caller =
  | { readonly kind: 'none' }
  /** The configured service credential (the gateway's own list and health checks). */
  | { readonly kind: 'service' }
  | {
      readonly kind: 'jwt';
      /** Whether the signature verified against the JWKS (and the audience, when one is expected). */
      readonly verified: boolean;
      /** Why it did not verify (jose's message), when it did not. */
      readonly error?: string;
      readonly iss?: string;
      readonly sub?: string;
      readonly aud?: string | readonly string[];
      readonly exp?: number;
    }
  /** Anything else: its SHA-256 (hex, 16 digits) so that a test can match it without printing it. */
  | { readonly kind: 'opaque'; readonly sha256: string };

/** Options of {@link startWhoamiUpstream}. */
export interface WhoamiUpstreamOptions {
  /** 'legacy' (default): SDK 1.x, stateful 2025-11-25; 'modern': SDK 2.x, 2026-07-28 and legacy stateless. */
  era?: 'legacy' | 'modern';
  /** serverInfo.name. Default 'whoami'. */
  name?: string;
  /** The JWKS a JWT's signature is checked against; without it no JWT verifies. */
  jwksUri?: string;
  /** The `aud` a JWT must carry to verify. Default: any. */
  audience?: string;
  /** The whole Authorization value of the gateway's own requests (e.g. `Bearer service`). */
  serviceCredential?: string;
  /**
   * Answers a tools/call with HTTP 401 unless this accepts its caller (other requests: the
   * service credential or an accepted caller). Default: every request is served.
   */
  requireUserToken?: (caller: Caller, authorization: string | undefined) => boolean;
  /** Serve RFC 9728 protected resource metadata naming these authorization servers, and name it in 401s. */
  protectedResource?: { readonly authorizationServers: readonly string[]; readonly scopes?: readonly string[] };
}

/** One JSON-RPC request the upstream received (its edge, before the SDK), and what it answered. */
export interface WhoamiRequest {
  /** The JSON-RPC method; undefined for a response or a GET/DELETE. */
  readonly method: string | undefined;
  /** The tool name of a tools/call. */
  readonly tool: string | undefined;
  readonly authorization: string | undefined;
  readonly caller: Caller;
  /** 401 when it was refused at the edge; else the SDK's status. */
  status: number;
}

/** A running whoami upstream. */
export interface WhoamiUpstream {
  /** `http://127.0.0.1:<port>/mcp`: the resource, and the audience a token for it names. */
  readonly url: string;
  /** `http://127.0.0.1:<port>/.well-known/oauth-protected-resource/mcp` (served with `protectedResource`). */
  readonly metadataUrl: string;
  /** Every POSTed JSON-RPC request, in order. */
  readonly requests: readonly WhoamiRequest[];
  /** How many requests of `method` carried each Authorization value ('none' for none). */
  authorizations(method: string): ReadonlyMap<string, number>;
  /** The callers of the tools/calls the SDK served (not refused at the edge). */
  servedCalls(): Caller[];
  /** How many tools/calls were answered 401. */
  refusedCalls(): number;
  /** Replaces the requireUserToken predicate (undefined: serve everything). */
  setRequireUserToken(predicate: WhoamiUpstreamOptions['requireUserToken']): void;
  stop(): Promise<void>;
}

const METADATA_PATH = '/.well-known/oauth-protected-resource';

/**
 * A real MCP server (SDK 1.x or 2.x behind a small node:http edge on 127.0.0.1) with one tool,
 * `whoami`, whose result text is the JSON {@link Caller} of the Authorization it received on that
 * call: a JWT verified against `jwksUri` (jose) with its claims, an opaque token's hash prefix,
 * or none. The edge records every request's Authorization and, with `requireUserToken`, answers
 * a tools/call 401 (`WWW-Authenticate: Bearer resource_metadata=…` with `protectedResource`)
 * unless the caller is accepted, as an upstream that takes each user's own token does.
 * @see https://www.rfc-editor.org/rfc/rfc9728 (protected resource metadata)
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3 (the Bearer challenge)
 */
export async function startWhoamiUpstream(options: WhoamiUpstreamOptions = {}): Promise<WhoamiUpstream> {
  const jwks = options.jwksUri === undefined ? undefined : createRemoteJWKSet(new URL(options.jwksUri));
  const describe = (authorization: string | undefined) => describeCaller(authorization, options, jwks);
  const name = options.name ?? 'whoami';
  const inner =
    options.era === 'modern'
      ? await startModernUpstream({
          name,
          legacy: 'stateless',
          setup: (server) =>
            server.registerTool('whoami', { description: WHOAMI, inputSchema: z.object({}) }, async (_args, ctx) =>
              whoamiResult(await describe(ctx.http?.req?.headers.get('authorization') ?? undefined)),
            ),
        })
      : await startSdkUpstream({
          name,
          setup: (server) =>
            server.registerTool('whoami', { description: WHOAMI, inputSchema: {} }, async (_args, extra) =>
              whoamiResult(await describe(headerOf(extra.requestInfo?.headers, 'authorization'))),
            ),
        });

  const requests: WhoamiRequest[] = [];
  let requireUserToken = options.requireUserToken;
  const http = createServer((req, res) => {
    void edge(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(String(error));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const url = `${origin}/mcp`;
  const metadataUrl = `${origin}${METADATA_PATH}/mcp`;

  async function edge(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', origin).pathname;
    if (path === METADATA_PATH || path === `${METADATA_PATH}/mcp`) {
      if (options.protectedResource === undefined) return void res.writeHead(404).end();
      const { authorizationServers, scopes } = options.protectedResource;
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          resource: url,
          authorization_servers: authorizationServers,
          bearer_methods_supported: ['header'],
          ...(scopes === undefined ? {} : { scopes_supported: scopes }),
        }),
      );
    }
    const body = await readBody(req);
    const authorization = headerOf(req.headers, 'authorization');
    const caller = await describe(authorization);
    const recorded = req.method === 'POST' ? messagesOf(body).map((message) => record(message)) : [];
    function record(message: { method?: unknown; params?: unknown }): WhoamiRequest {
      const method = typeof message.method === 'string' ? message.method : undefined;
      const params = message.params as { name?: unknown } | undefined;
      const tool = method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
      const entry: WhoamiRequest = { method, tool, authorization, caller, status: 0 };
      requests.push(entry);
      return entry;
    }
    if (requireUserToken !== undefined && recorded.length > 0) {
      const accepted = requireUserToken(caller, authorization);
      const calls = recorded.some((entry) => entry.method === 'tools/call');
      if (!accepted && (calls || caller.kind !== 'service')) {
        for (const entry of recorded) entry.status = 401;
        return void res.writeHead(401, { 'www-authenticate': challenge(authorization, metadataUrl, options) }).end();
      }
    }
    const status = await relay(req, res, body, inner.url);
    for (const entry of recorded) entry.status = status;
  }

  return {
    url,
    metadataUrl,
    requests,
    authorizations(method) {
      const counts = new Map<string, number>();
      for (const request of requests) {
        if (request.method !== method) continue;
        const key = request.authorization ?? 'none';
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    },
    servedCalls: () =>
      requests
        .filter((request) => request.method === 'tools/call' && request.status !== 401)
        .map((request) => request.caller),
    refusedCalls: () => requests.filter((request) => request.method === 'tools/call' && request.status === 401).length,
    setRequireUserToken(predicate) {
      requireUserToken = predicate;
    },
    async stop() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await inner.stop();
    },
  };
}

const WHOAMI = 'Says who called: the Authorization this call carried';

function whoamiResult(caller: Caller) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(caller) }] };
}

/** The {@link Caller} of an Authorization value. */
async function describeCaller(
  authorization: string | undefined,
  options: WhoamiUpstreamOptions,
  jwks: JWTVerifyGetKey | undefined,
): Promise<Caller> {
  if (authorization === undefined || authorization === '') return { kind: 'none' };
  if (options.serviceCredential !== undefined && authorization === options.serviceCredential) {
    return { kind: 'service' };
  }
  const token = /^Bearer\s+(.+)$/i.exec(authorization)?.[1];
  if (token !== undefined && token.split('.').length === 3) {
    try {
      const { iss, sub, aud, exp } = decodeJwt(token);
      const claims = {
        ...(iss === undefined ? {} : { iss }),
        ...(sub === undefined ? {} : { sub }),
        ...(aud === undefined ? {} : { aud }),
        ...(exp === undefined ? {} : { exp }),
      };
      if (jwks === undefined) return { kind: 'jwt', verified: false, error: 'no JWKS configured', ...claims };
      try {
        await jwtVerify(token, jwks, options.audience === undefined ? {} : { audience: options.audience });
        return { kind: 'jwt', verified: true, ...claims };
      } catch (error) {
        return { kind: 'jwt', verified: false, error: (error as Error).message, ...claims };
      }
    } catch {
      // Not a JWT after all: an opaque token with dots.
    }
  }
  return { kind: 'opaque', sha256: createHash('sha256').update(authorization).digest('hex').slice(0, 16) };
}

/** The Bearer challenge of a refused call (RFC 6750 §3; RFC 9728 §5.1 names the metadata). */
function challenge(authorization: string | undefined, metadataUrl: string, options: WhoamiUpstreamOptions): string {
  const parts: string[] = [];
  if (options.protectedResource !== undefined) parts.push(`resource_metadata="${metadataUrl}"`);
  if (authorization !== undefined) parts.push('error="invalid_token"');
  return parts.length === 0 ? 'Bearer' : `Bearer ${parts.join(', ')}`;
}

/** Sends the request on to the SDK server and streams its answer back; resolves with its status. */
async function relay(req: IncomingMessage, res: ServerResponse, body: string, target: string): Promise<number> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || HOP_BY_HOP.has(name)) continue;
    headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const abort = new AbortController();
  res.once('close', () => abort.abort());
  const response = await fetch(target + (new URL(req.url ?? '/', 'http://edge').search || ''), {
    method: req.method ?? 'GET',
    headers,
    signal: abort.signal,
    ...(req.method === 'POST' ? { body } : {}),
  });
  const out: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== 'content-length') out[name] = value;
  });
  res.writeHead(response.status, out);
  if (response.body === null) {
    res.end();
    return response.status;
  }
  try {
    for await (const chunk of response.body) res.write(chunk);
  } catch {
    // The client or the SDK server went away.
  }
  res.end();
  return response.status;
}

const HOP_BY_HOP = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function headerOf(headers: Record<string, string | string[] | undefined> | undefined, name: string) {
  const value = headers?.[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function messagesOf(body: string): Array<{ method?: unknown; params?: unknown }> {
  try {
    const parsed = JSON.parse(body) as unknown;
    return (Array.isArray(parsed) ? parsed : [parsed]).filter(
      (message): message is { method?: unknown } => typeof message === 'object' && message !== null,
    );
  } catch {
    return [];
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
