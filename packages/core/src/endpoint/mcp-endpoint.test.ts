import { unverified } from '../identity/authentication.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { EMPTY_CONFIG } from '../config/schema.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createMemorySessionStore } from '../store/memory-session-store.ts';
import { createGateway, type Gateway, type GatewayOptions } from '../gateway/create-gateway.ts';

const KEY = 'gateway-signing-key-for-tests-0001';
const OTHER_KEY = 'another-gateway-signing-key-000002';
const ENDPOINT = 'http://localhost:8080/mcp';

const running: Gateway[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((gateway) => gateway.stop()));
});

function gateway(options: Partial<GatewayOptions> = {}): Gateway {
  const started = createGateway({ config: EMPTY_CONFIG, signingKey: KEY, logger: NOOP_LOGGER, ...options });
  running.push(started);
  return started;
}

interface RpcBody {
  jsonrpc: string;
  id: string | number | null;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

function post(body: unknown, headers: Record<string, string> = {}): Request {
  return new Request(ENDPOINT, {
    method: 'POST',
    headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: { elicitation: {} },
    clientInfo: { name: 'test-client', version: '1.0.0' },
  },
};

/** Initializes a session and returns its id. */
async function initialize(target: Gateway, headers: Record<string, string> = {}): Promise<string> {
  const response = await target.endpoint.handle(post(INITIALIZE, headers));
  expect(response.status).toBe(200);
  const sessionId = response.headers.get('mcp-session-id');
  expect(sessionId).toBeTruthy();
  return sessionId as string;
}

function listTools(sessionId: string, headers: Record<string, string> = {}): Request {
  return post(
    { jsonrpc: '2.0', id: 1, method: 'tools/list' },
    { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-06-18', ...headers },
  );
}

async function json(response: Response): Promise<RpcBody> {
  return (await response.json()) as RpcBody;
}

describe('MCP endpoint', () => {
  it('answers initialize with the negotiated version and a session id header', async () => {
    const response = await gateway().endpoint.handle(post(INITIALIZE));

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('application/json');
    expect(response.headers.get('mcp-session-id')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const body = await json(response);
    expect(body.id).toBe(0);
    expect(body.result).toMatchObject({
      protocolVersion: '2025-06-18',
      capabilities: { tools: { listChanged: true } },
    });
  });

  it('lists no tools on a session of a gateway without servers and without discovery', async () => {
    const target = gateway({ toolDiscovery: { enabled: false, threshold: 0 } });
    const sessionId = await initialize(target);

    const response = await target.endpoint.handle(listTools(sessionId));

    expect(response.status).toBe(200);
    expect(await json(response)).toEqual({ jsonrpc: '2.0', id: 1, result: { tools: [] } });
  });

  it('lists only the discovery meta-tools on a gateway without servers, as discovery is on by default', async () => {
    const target = gateway();
    const sessionId = await initialize(target);

    const response = await target.endpoint.handle(listTools(sessionId));

    const body = (await json(response)) as unknown as { result: { tools: { name: string }[] } };
    expect(body.result.tools.map((tool) => tool.name)).toEqual(['discover_tools', 'select_tools', 'search_tools']);
  });

  it('answers malformed JSON with 400 and a parse error', async () => {
    const response = await gateway().endpoint.handle(post('{"jsonrpc":"2.0",'));

    expect(response.status).toBe(400);
    expect((await json(response)).error?.code).toBe(-32700);
  });

  it('answers a request without a session id with 400', async () => {
    const response = await gateway().endpoint.handle(post({ jsonrpc: '2.0', id: 1, method: 'tools/list' }));

    expect(response.status).toBe(400);
    expect((await json(response)).error?.code).toBe(-32600);
  });

  it('answers an unknown method with a JSON-RPC method-not-found error', async () => {
    const target = gateway();
    const sessionId = await initialize(target);

    const response = await target.endpoint.handle(
      post({ jsonrpc: '2.0', id: 9, method: 'tools/dance' }, { 'mcp-session-id': sessionId }),
    );

    const body = await json(response);
    expect(body.id).toBe(9);
    expect(body.error?.code).toBe(-32601);
    expect(body.error?.message).toContain('tools/dance');
  });

  it('answers 404 on a session after it was deleted', async () => {
    const target = gateway();
    const sessionId = await initialize(target);

    const deleted = await target.endpoint.handle(
      new Request(ENDPOINT, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } }),
    );
    expect(deleted.ok).toBe(true);

    const response = await target.endpoint.handle(listTools(sessionId));
    expect(response.status).toBe(404);
  });

  it('answers 404 to every request on a session after it was deleted, unknown methods and tools included', async () => {
    const target = gateway();
    const sessionId = await initialize(target);
    await target.endpoint.handle(new Request(ENDPOINT, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } }));
    const onSession = { 'mcp-session-id': sessionId };

    for (const message of [
      { jsonrpc: '2.0', id: 1, method: 'tools/dance' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'nowhere_tool' } },
      { jsonrpc: '2.0', id: 3, method: 'ping' },
      { jsonrpc: '2.0', id: 4, method: 'toString' },
      { jsonrpc: '2.0', id: 'x', result: {} },
    ]) {
      const response = await target.endpoint.handle(post(message, onSession));
      expect(response.status, JSON.stringify(message)).toBe(404);
    }
    for (const method of ['GET', 'DELETE']) {
      const response = await target.endpoint.handle(new Request(ENDPOINT, { method, headers: onSession }));
      expect(response.status, method).toBe(404);
    }
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf'])(
    'answers the Object.prototype member %s as an unknown method in both eras',
    async (method) => {
      const target = gateway();
      const sessionId = await initialize(target);

      const legacy = await target.endpoint.handle(
        post({ jsonrpc: '2.0', id: 5, method }, { 'mcp-session-id': sessionId }),
      );
      expect(legacy.status).toBe(200);
      expect(await json(legacy)).toEqual({
        jsonrpc: '2.0',
        id: 5,
        error: { code: -32601, message: `Method not found: ${method}` },
      });

      const envelope = {
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientCapabilities': {},
      };
      const modern = await target.endpoint.handle(
        post(
          { jsonrpc: '2.0', id: 6, method, params: { _meta: envelope } },
          { 'mcp-protocol-version': '2026-07-28', 'mcp-method': method },
        ),
      );
      expect(modern.status).toBe(404);
      expect(await json(modern)).toMatchObject({ jsonrpc: '2.0', id: 6, error: { code: -32601 } });
    },
  );

  it('refuses JSON nested deeper than the limit with 400 and the request id, and accepts 100 levels', async () => {
    const target = gateway();
    const sessionId = await initialize(target);
    const deep = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;
    const call = (levels: number) =>
      post(`{"jsonrpc":"2.0","id":42,"method":"tools/list","params":{"deep":${deep(levels)}}}`, {
        'mcp-session-id': sessionId,
      });

    const refused = await target.endpoint.handle(call(20_000));
    expect(refused.status).toBe(400);
    const body = await json(refused);
    expect(body.id).toBe(42);
    expect(body.error?.code).toBe(-32600);
    expect(body.error?.message).toMatch(/deeper than the limit of 128 levels/);
    expect((await target.endpoint.handle(call(100))).status).toBe(200);
    const whole = await target.endpoint.handle(post(deep(20_000), { 'mcp-session-id': sessionId }));
    expect(whole.status).toBe(400);
    expect((await json(whole)).id).toBeNull();
  });

  it('answers 404 to a notification on a session after it was deleted', async () => {
    const target = gateway();
    const sessionId = await initialize(target);
    await target.endpoint.handle(new Request(ENDPOINT, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } }));

    const response = await target.endpoint.handle(
      post({ jsonrpc: '2.0', method: 'notifications/initialized' }, { 'mcp-session-id': sessionId }),
    );

    expect(response.status).toBe(404);
  });

  it('answers 404 to a session id issued by a gateway with another key', async () => {
    const sessionId = await initialize(gateway({ signingKey: OTHER_KEY }));

    const response = await gateway().endpoint.handle(listTools(sessionId));

    expect(response.status).toBe(404);
    expect((await json(response)).error?.code).toBe(-32001);
  });

  it('accepts a session id issued by another gateway holding the same key', async () => {
    const sessionId = await initialize(gateway());

    const response = await gateway().endpoint.handle(listTools(sessionId));

    expect(response.status).toBe(200);
  });

  it('answers 404 to an unknown session id', async () => {
    const response = await gateway().endpoint.handle(listTools('not-a-session'));

    expect(response.status).toBe(404);
  });

  describe('bearer binding', () => {
    const alice = { authorization: 'Bearer alice-token' };
    const bob = { authorization: 'Bearer bob-token' };

    it('accepts the session from the caller that started it', async () => {
      const target = gateway();
      const sessionId = await initialize(target, alice);

      const response = await target.endpoint.handle(listTools(sessionId, alice));

      expect(response.status).toBe(200);
    });

    it('answers 404 when another caller presents the session', async () => {
      const target = gateway();
      const sessionId = await initialize(target, alice);

      const response = await target.endpoint.handle(listTools(sessionId, bob));

      expect(response.status).toBe(404);
    });

    it('answers 404 when the session is presented without the bearer token', async () => {
      const target = gateway();
      const sessionId = await initialize(target, alice);

      expect((await target.endpoint.handle(listTools(sessionId))).status).toBe(404);
    });

    it('answers 404 when a bearer token is added to an anonymous session', async () => {
      const target = gateway();
      const sessionId = await initialize(target);

      expect((await target.endpoint.handle(listTools(sessionId, bob))).status).toBe(404);
    });
  });
});

describe('Gateway.routing', () => {
  it("shares the broker's session tokens, store and catalog with a co-located router", async () => {
    const store = createMemorySessionStore();
    const target = gateway({ store });
    const routing = target.routing();
    expect(target.routing()).toBe(routing);
    expect(routing.store).toBe(store);
    const sessionId = await initialize(target);
    expect(await routing.gate.check({ sessionId, auth: unverified('Bearer someone') })).toMatchObject({ ok: false });
    const verified = await routing.tokens.verify(sessionId);
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    await store.ensureBackendSession(verified.claims.jti, 'server1', 60, async () => 'backend-1');
    expect(await routing.store.lookup(verified.claims.jti, 'server1')).toMatchObject({ backendSessionId: 'backend-1' });
    expect(routing.catalog().tools).toEqual([]);
    expect(routing.server('server1')).toBeUndefined();
    expect(routing.client('server1')).toBeUndefined();
  });
});
