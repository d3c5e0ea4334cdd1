// A STAND-IN FOR THE GATEWAY, not a model of it: the smallest MCP resource server that makes
// the SDK's OAuth client run its whole flow (401 with resource_metadata, protected resource
// metadata, bearer verified with jose against the provider's JWKS, 403 insufficient_scope). It
// proves the harness's provider and client work together; gateway suites point the same client
// at the gateway instead.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';

export interface StandInOptions {
  issuer: string;
  jwksUri: string;
  /** Scopes every request's token must carry. Default none. */
  requiredScopes?: readonly string[];
  /** `scopes_supported` of the metadata (what the SDK asks for). Default `mcp:tools`, `mcp:admin`. */
  scopesSupported?: readonly string[];
}

/** One request as it arrived: the Authorization header (or none) and the status it got. */
export interface StandInRequest {
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
  readonly status: number;
}

export interface StandInResourceServer {
  /** `http://127.0.0.1:<port>/mcp`, also the resource indicator tokens must name. */
  readonly url: string;
  readonly resourceMetadataUrl: string;
  readonly requests: readonly StandInRequest[];
  stop(): Promise<void>;
}

const MCP_PATH = '/mcp';
const METADATA_PATH = '/.well-known/oauth-protected-resource';

/** Starts the stand-in on 127.0.0.1; its one tool, `whoami`, answers the verified token's claims. */
export async function startStandInResourceServer(options: StandInOptions): Promise<StandInResourceServer> {
  const jwks = createRemoteJWKSet(new URL(options.jwksUri));
  const requests: StandInRequest[] = [];
  const http = createServer((req, res) => {
    res.once('finish', () =>
      requests.push({
        method: req.method ?? '',
        path: new URL(req.url ?? '/', url).pathname,
        authorization: req.headers.authorization,
        status: res.statusCode,
      }),
    );
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const url = `${base}${MCP_PATH}`;
  const resourceMetadataUrl = `${base}${METADATA_PATH}${MCP_PATH}`;

  const challenge = (res: ServerResponse, status: 401 | 403, fields: string) =>
    res
      .writeHead(status, {
        'www-authenticate': `Bearer ${fields}${fields ? ', ' : ''}resource_metadata="${resourceMetadataUrl}"`,
      })
      .end();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', base).pathname;
    if (path === METADATA_PATH || path === `${METADATA_PATH}${MCP_PATH}`) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          resource: url,
          authorization_servers: [options.issuer],
          scopes_supported: options.scopesSupported ?? ['mcp:tools', 'mcp:admin'],
          bearer_methods_supported: ['header'],
        }),
      );
      return;
    }
    if (path !== MCP_PATH) return void res.writeHead(404).end();

    const bearer = /^Bearer (\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (bearer === undefined) return challenge(res, 401, '');
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(bearer, jwks, {
        issuer: options.issuer,
        audience: url,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat', 'jti', 'client_id'],
      }));
    } catch {
      return challenge(res, 401, 'error="invalid_token"');
    }
    const granted = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    const required = options.requiredScopes ?? [];
    if (!required.every((scope) => granted.includes(scope))) {
      return challenge(res, 403, `error="insufficient_scope", scope="${required.join(' ')}"`);
    }
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();

    const auth: AuthInfo = {
      token: bearer,
      clientId: String(claims.client_id),
      scopes: granted,
      ...(claims.exp === undefined ? {} : { expiresAt: claims.exp }),
      extra: { claims },
    };
    const server = whoamiServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.once('close', () => void server.close());
    await server.connect(transport);
    await transport.handleRequest(Object.assign(req, { auth }), res);
  };

  return {
    url,
    resourceMetadataUrl,
    requests,
    async stop() {
      const closed = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      await closed;
    },
  };
}

/** A stateless SDK server whose `whoami` tool answers the caller's verified claims as JSON text. */
function whoamiServer(): McpServer {
  const server = new McpServer({ name: 'stand-in-resource-server', version: '1.0.0' });
  server.registerTool('whoami', { description: 'The verified caller' }, (extra) => ({
    content: [{ type: 'text', text: JSON.stringify(extra.authInfo?.extra?.claims ?? null) }],
  }));
  return server;
}
