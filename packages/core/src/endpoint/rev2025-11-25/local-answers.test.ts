import { afterEach, describe, expect, it } from 'vitest';
import { buildCatalog } from '../../catalog/catalog.ts';
import type { ServerConfig } from '../../config/schema.ts';
import { createEndpointContext, DEFAULT_SERVER_INFO } from '../../gateway/create-gateway.ts';
import { NOOP_LOGGER } from '../../logger.ts';
import type { JsonRpcRequest } from '../../protocol/json-rpc.ts';
import { LATEST_LEGACY_PROTOCOL_VERSION } from '../../protocol/versions.ts';
import { credentialIdentity as callerIdentity } from '../../session/caller-identity.ts';
import { NO_AUDIT } from '../../audit/audit-record.ts';
import { createAccessControl } from '../../decision/access-control.ts';
import { unverified } from '../../identity/authentication.ts';
import { rpcErrorResponse } from '../../protocol/error-mapping.ts';
import { createSessionTokens } from '../../session/session-token.ts';
import { createMemorySessionStore } from '../../store/memory-session-store.ts';
import { createMemoryNotificationBus } from '../../store/notification-bus.ts';
import type { UpstreamSnapshot } from '../../upstream/types.ts';
import type { EndpointContext } from '../endpoint-context.ts';
import { answerInitialize, answerLocal, GATEWAY_CAPABILITIES } from './local-answers.ts';

const KEY = 'gateway-signing-key-for-tests-0001';
const ENDPOINT = 'http://localhost:8080/mcp';

const SERVER: ServerConfig = {
  name: 'weather',
  url: 'http://weather.internal/mcp',
  hostname: 'weather.internal',
  prefix: 'w_',
  enabled: true,
  userSpecificList: false,
  category: [],
  tags: [],
};

const SNAPSHOT: UpstreamSnapshot = {
  server: 'weather',
  ready: true,
  message: 'ready',
  capabilities: {},
  tools: [
    { name: 'forecast', inputSchema: { type: 'object' } },
    { name: 'alerts', inputSchema: { type: 'object' } },
  ],
  prompts: [{ name: 'summary' }],
  resources: [{ uri: 'test://stations', name: 'stations' }],
  resourceTemplates: [{ uriTemplate: 'test://station/{id}', name: 'station' }],
  invalidTools: [],
  invalidPrompts: [],
  consecutiveFailures: 0,
};

const CATALOG = buildCatalog([SERVER], new Map([['weather', SNAPSHOT]]));
const ACCESS = createAccessControl({
  config: { servers: [SERVER], virtualServers: [{ name: 'forecasts', tools: ['w_forecast'] }] },
  env: {},
  fetch,
  logger: NOOP_LOGGER,
});

const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/** An endpoint context whose pool serves a fixed catalog (the local methods only read the catalog). */
function endpointOptions(extra: { serverInfo?: { name: string; version: string } } = {}): EndpointContext {
  const store = createMemorySessionStore();
  const bus = createMemoryNotificationBus();
  closers.push(
    () => store.close(),
    () => bus.close(),
  );
  const pool = {
    catalog: () => CATALOG,
    server: () => undefined,
    client: () => undefined,
    snapshot: () => undefined,
    refreshIfStale: () => undefined,
    config: () => ({ servers: [], virtualServers: [] }),
  };
  return createEndpointContext(pool, {
    tokens: createSessionTokens({ key: KEY }),
    store,
    bus,
    logger: NOOP_LOGGER,
    access: () => ACCESS,
    auditor: () => NO_AUDIT,
    // The lists here are the catalog's; test/discovery covers the meta-tools.
    toolDiscovery: { enabled: false, threshold: 0 },
    ...extra,
  });
}

/** A request on a session (the local answers read only its headers). */
function sessionRequest(_options: EndpointContext, headers: Record<string, string> = {}): Request {
  return new Request(ENDPOINT, { method: 'POST', headers });
}

/** answerLocal with the request's access facts, as the legacy dispatcher builds them. */
async function local(options: EndpointContext, request: Request, message: JsonRpcRequest): Promise<Response> {
  const access = await options.access().requestAccess(request.headers, unverified(null), message.method);
  if (!('auth' in access)) return rpcErrorResponse(message.id, access, NOOP_LOGGER);
  return answerLocal(options, message, access, { key: 'session:test', jti: 'test' }, NOOP_LOGGER);
}

function request(method: string, params?: JsonRpcRequest['params'], id: JsonRpcRequest['id'] = 1): JsonRpcRequest {
  return params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params };
}

function initialize(params: Record<string, unknown>, headers: Record<string, string> = {}) {
  return {
    http: new Request(ENDPOINT, { method: 'POST', headers }),
    message: request('initialize', { clientInfo: { name: 'test-client', version: '1.0.0' }, ...params }, 0),
  };
}

interface RpcBody {
  jsonrpc: string;
  id: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

async function body(response: Response): Promise<RpcBody> {
  return (await response.json()) as RpcBody;
}

describe('answerInitialize', () => {
  it("agrees to the client's version when the gateway serves it", async () => {
    const options = endpointOptions();
    const { http, message } = initialize({ protocolVersion: '2025-03-26', capabilities: {} });

    const response = await answerInitialize(options, http, message, unverified(http.headers.get('authorization')));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await body(response)).toEqual({
      jsonrpc: '2.0',
      id: 0,
      result: { protocolVersion: '2025-03-26', capabilities: GATEWAY_CAPABILITIES, serverInfo: DEFAULT_SERVER_INFO },
    });
  });

  it.each([
    ['a version it does not know', { protocolVersion: '2099-01-01' }],
    ['no version', {}],
  ])('offers the newest legacy version to a client asking for %s', async (_, params) => {
    const { http, message } = initialize(params);

    const response = await answerInitialize(
      endpointOptions(),
      http,
      message,
      unverified(http.headers.get('authorization')),
    );

    expect((await body(response)).result?.['protocolVersion']).toBe(LATEST_LEGACY_PROTOCOL_VERSION);
  });

  it('reports the configured serverInfo', async () => {
    const options = endpointOptions({ serverInfo: { name: 'acme-gateway', version: '2.0.0' } });
    const { http, message } = initialize({ protocolVersion: '2025-06-18' });

    const response = await answerInitialize(options, http, message, unverified(http.headers.get('authorization')));

    expect((await body(response)).result?.['serverInfo']).toEqual({ name: 'acme-gateway', version: '2.0.0' });
  });

  it("issues a session id carrying the negotiated version and the client's capabilities", async () => {
    const options = endpointOptions();
    const capabilities = { elicitation: {}, roots: { listChanged: true } };
    const { http, message } = initialize({ protocolVersion: '2025-06-18', capabilities });

    const response = await answerInitialize(options, http, message, unverified(http.headers.get('authorization')));

    const verified = await options.tokens.verify(response.headers.get('mcp-session-id') ?? '');
    expect(verified).toMatchObject({
      ok: true,
      claims: { protocolVersion: '2025-06-18', clientCapabilities: capabilities },
    });
    expect(verified.ok && verified.claims.caller).toBeUndefined();
  });

  it('issues a new session on every initialize', async () => {
    const options = endpointOptions();
    const first = initialize({ protocolVersion: '2025-06-18' });
    const second = initialize({ protocolVersion: '2025-06-18' });

    const a = (
      await answerInitialize(options, first.http, first.message, unverified(first.http.headers.get('authorization')))
    ).headers.get('mcp-session-id');
    const b = (
      await answerInitialize(options, second.http, second.message, unverified(second.http.headers.get('authorization')))
    ).headers.get('mcp-session-id');

    expect(a).not.toBe(b);
  });

  it('drops client capabilities larger than 2 KiB of JSON', async () => {
    const options = endpointOptions();
    const capabilities = { experimental: { padding: 'x'.repeat(2048) } };
    const { http, message } = initialize({ protocolVersion: '2025-06-18', capabilities });

    const response = await answerInitialize(options, http, message, unverified(http.headers.get('authorization')));

    const verified = await options.tokens.verify(response.headers.get('mcp-session-id') ?? '');
    expect(verified).toMatchObject({ ok: true, claims: { clientCapabilities: {} } });
  });

  it('binds the session to the bearer identity of the request', async () => {
    const options = endpointOptions();
    const { http, message } = initialize({ protocolVersion: '2025-06-18' }, { authorization: 'Bearer alice-token' });

    const response = await answerInitialize(options, http, message, unverified(http.headers.get('authorization')));

    const verified = await options.tokens.verify(response.headers.get('mcp-session-id') ?? '');
    expect(verified).toMatchObject({ ok: true, claims: { caller: await callerIdentity('Bearer alice-token') } });
  });
});

describe('answerLocal', () => {
  it.each(['ping', 'logging/setLevel'])('answers %s with an empty result', async (method) => {
    const options = endpointOptions();

    const response = await local(options, sessionRequest(options), request(method, { level: 'info' }, 'p-1'));

    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ jsonrpc: '2.0', id: 'p-1', result: {} });
  });

  it.each([
    ['tools/list', { tools: CATALOG.tools }],
    ['prompts/list', { prompts: CATALOG.prompts }],
    ['resources/list', { resources: CATALOG.resources }],
    ['resources/templates/list', { resourceTemplates: CATALOG.resourceTemplates }],
  ])('answers %s from the catalog', async (method, result) => {
    const options = endpointOptions();

    const response = await local(options, sessionRequest(options), request(method));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await body(response)).toEqual({ jsonrpc: '2.0', id: 1, result });
  });

  it('lists the served, prefixed names', async () => {
    const options = endpointOptions();

    const response = await local(options, sessionRequest(options), request('tools/list'));

    const tools = (await body(response)).result?.['tools'] as { name: string }[];
    expect(tools.map((tool) => tool.name)).toEqual(['w_alerts', 'w_forecast']);
  });

  it('keeps a string request id', async () => {
    const options = endpointOptions();

    const response = await local(options, sessionRequest(options), request('tools/list', undefined, 'list-"1"'));

    expect((await body(response)).id).toBe('list-"1"');
  });

  it('refuses a cursor, since the gateway lists everything in one page', async () => {
    const options = endpointOptions();

    const response = await local(options, sessionRequest(options), request('tools/list', { cursor: 'next' }));

    expect(response.status).toBe(200);
    expect(await body(response)).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'Invalid cursor' } });
  });

  it('lists only the tools of the virtual server the request names', async () => {
    const options = endpointOptions();
    const session = sessionRequest(options, { 'x-mcp-virtualserver': 'forecasts' });

    const response = await local(options, session, request('tools/list'));

    const tools = (await body(response)).result?.['tools'] as { name: string }[];
    expect(tools.map((tool) => tool.name)).toEqual(['w_forecast']);
  });

  it('answers an invalid params error naming an unknown virtual server', async () => {
    const options = endpointOptions();
    const session = sessionRequest(options, { 'x-mcp-virtualserver': 'nowhere' });

    const response = await local(options, session, request('tools/list'));

    expect(await body(response)).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: -32602, message: 'Unknown virtual server: nowhere' },
    });
  });
});
