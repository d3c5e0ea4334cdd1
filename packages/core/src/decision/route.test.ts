import { describe, expect, it } from 'vitest';
import { buildCatalog } from '../catalog/catalog.ts';
import type { ServerConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import type { JsonRpcRequest } from '../protocol/json-rpc.ts';
import { fakeServer as server, fakeSnapshot as snapshot } from '../catalog/catalog.fixtures.ts';
import type { Catalog } from '../catalog/catalog.ts';
import { decideRoute, type ForwardPlan, type RouteContext, type RouteDecision } from './route.ts';
import type { Era } from './routed-methods.ts';

const SERVERS = [server('weather', 'w_'), server('plain', '')];
const CATALOG = buildCatalog(
  SERVERS,
  new Map([
    [
      'weather',
      snapshot('weather', {
        tools: [{ name: 'forecast', inputSchema: { type: 'object' } }],
        prompts: [{ name: 'summary' }],
        resources: [{ uri: 'test://stations', name: 'stations' }],
        resourceTemplates: [{ uriTemplate: 'test://station/{id}', name: 'station' }],
      }),
    ],
    [
      'plain',
      snapshot('plain', {
        tools: [{ name: 'echo', inputSchema: { type: 'object' } }],
        resources: [{ uri: 'file:///readme.md', name: 'readme' }],
      }),
    ],
  ]),
);
const serverOf = (name: string) => SERVERS.find((s) => s.name === name);

/** A route context over CATALOG; every upstream speaks `upstreamEra`. */
function context(
  catalog: Catalog = CATALOG,
  lookup = serverOf,
  upstreamEra: Era = 'legacy',
  metaToolNames: ReadonlySet<string> = new Set(),
): RouteContext {
  return { catalog, serverOf: lookup, upstreamEra: () => upstreamEra, metaToolNames };
}

function decide(message: JsonRpcRequest, era: Era = 'legacy', ctx = context()): RouteDecision {
  return decideRoute(message, era, ctx);
}

/** The plan of a forward decision, or the refusal's error. */
function planCall(message: JsonRpcRequest, catalog: Catalog, lookup: typeof serverOf): ForwardPlan | GatewayError {
  const decision = decide(message, 'legacy', context(catalog, lookup));
  if (decision.kind === 'forward') return decision.plan;
  if (decision.kind === 'refuse') return decision.error;
  throw new Error(`expected a forward or a refusal, got ${decision.kind}`);
}

function request(method: string, params?: JsonRpcRequest['params']): JsonRpcRequest {
  return params === undefined ? { jsonrpc: '2.0', id: 1, method } : { jsonrpc: '2.0', id: 1, method, params };
}

function plan(method: string, params?: JsonRpcRequest['params']): ForwardPlan {
  const result = planCall(request(method, params), CATALOG, serverOf);
  if (result instanceof GatewayError) throw new Error(`expected a plan, got ${result.code}: ${result.message}`);
  return result;
}

function refusal(method: string, params?: JsonRpcRequest['params']): GatewayError {
  const result = planCall(request(method, params), CATALOG, serverOf);
  expect(result).toBeInstanceOf(GatewayError);
  return result as GatewayError;
}

describe('decideRoute', () => {
  describe('tools/call', () => {
    it("answers a call of one of the gateway's meta-tools itself, in both eras, over an upstream tool of that name", () => {
      const call = { jsonrpc: '2.0' as const, id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } };
      const withMeta = context(CATALOG, serverOf, 'legacy', new Set(['echo', 'discover_tools']));
      expect(decide(call, 'legacy', withMeta)).toEqual({ kind: 'local' });
      expect(decide(call, 'modern', withMeta)).toEqual({ kind: 'local' });
      expect(decide({ ...call, params: { name: 'discover_tools' } }, 'legacy', withMeta)).toEqual({ kind: 'local' });
      expect(decide(call).kind).toBe('forward');
      expect(decide({ ...call, params: { name: 'discover_tools' } }).kind).toBe('refuse');
    });

    it('routes to the owning server with the prefix removed and other params untouched', () => {
      const params = { name: 'w_forecast', arguments: { city: 'Oslo' }, _meta: { progressToken: 'p1' } };

      const result = plan('tools/call', params);

      expect(result.server).toBe(SERVERS[0]);
      expect(result.params).toEqual({ name: 'forecast', arguments: { city: 'Oslo' }, _meta: { progressToken: 'p1' } });
      expect(result.target).toEqual({ kind: 'tool', name: 'forecast' });
      expect(result.upstreamEra).toBe('legacy');
      expect(params.name).toBe('w_forecast');
    });

    it('routes a tool of an unprefixed server by its own name', () => {
      const result = plan('tools/call', { name: 'echo', arguments: {} });

      expect(result.server.name).toBe('plain');
      expect(result.params).toEqual({ name: 'echo', arguments: {} });
      expect(result.rewriteResult).toBeUndefined();
    });

    it('puts the prefix into resource links, embedded resources and the UI resource of a result', () => {
      const result = plan('tools/call', { name: 'w_forecast' });

      expect(
        result.rewriteResult?.({
          content: [
            { type: 'text', text: 'see the link' },
            { type: 'resource_link', uri: 'test://stations', name: 'stations' },
            { type: 'resource', resource: { uri: 'test://station/4', text: 'Oslo' } },
          ],
          structuredContent: { uri: 'test://kept' },
          _meta: { ui: { resourceUri: 'ui://forecast.html', other: 1 }, kept: true },
        }),
      ).toEqual({
        content: [
          { type: 'text', text: 'see the link' },
          { type: 'resource_link', uri: 'test://w_stations', name: 'stations' },
          { type: 'resource', resource: { uri: 'test://w_station/4', text: 'Oslo' } },
        ],
        structuredContent: { uri: 'test://kept' },
        _meta: { ui: { resourceUri: 'ui://w_forecast.html', other: 1 }, kept: true },
      });
    });

    it('refuses an unknown tool with TOOL_NOT_FOUND naming it', () => {
      const error = refusal('tools/call', { name: 'w_nowcast' });

      expect(error.code).toBe('TOOL_NOT_FOUND');
      expect(error.rpcCode).toBe(-32602);
      expect(error.message).toContain('w_nowcast');
    });

    it('refuses the upstream name without its prefix', () => {
      expect(refusal('tools/call', { name: 'forecast' }).code).toBe('TOOL_NOT_FOUND');
    });

    it.each([
      ['no params', undefined],
      ['no name', { arguments: {} }],
      ['an empty name', { name: '' }],
      ['a numeric name', { name: 7 }],
      ['params as a list', ['w_forecast']],
    ])('refuses a call with %s as INVALID_PARAMS', (_label, params) => {
      expect(refusal('tools/call', params).code).toBe('INVALID_PARAMS');
    });

    it('refuses a tool whose server is no longer configured', () => {
      const result = planCall(request('tools/call', { name: 'w_forecast' }), CATALOG, () => undefined);

      expect(result).toBeInstanceOf(GatewayError);
      expect((result as GatewayError).code).toBe('TOOL_NOT_FOUND');
    });
  });

  describe('prompts/get', () => {
    it('routes to the owning server with the prefix removed', () => {
      const result = plan('prompts/get', { name: 'w_summary', arguments: { day: 'today' } });

      expect(result.server.name).toBe('weather');
      expect(result.params).toEqual({ name: 'summary', arguments: { day: 'today' } });
      expect(result.target).toEqual({ kind: 'prompt', name: 'summary' });
    });

    it('puts the prefix into the resources a prompt message embeds or links', () => {
      const result = plan('prompts/get', { name: 'w_summary' });

      expect(
        result.rewriteResult?.({
          messages: [
            { role: 'user', content: { type: 'resource', resource: { uri: 'test://stations', text: 'x' } } },
            { role: 'user', content: { type: 'resource_link', uri: 'test://station/1', name: 'one' } },
            { role: 'assistant', content: { type: 'text', text: 'hi' } },
          ],
        }),
      ).toEqual({
        messages: [
          { role: 'user', content: { type: 'resource', resource: { uri: 'test://w_stations', text: 'x' } } },
          { role: 'user', content: { type: 'resource_link', uri: 'test://w_station/1', name: 'one' } },
          { role: 'assistant', content: { type: 'text', text: 'hi' } },
        ],
      });
    });

    it('refuses an unknown prompt with PROMPT_NOT_FOUND naming it', () => {
      const error = refusal('prompts/get', { name: 'w_missing' });

      expect(error.code).toBe('PROMPT_NOT_FOUND');
      expect(error.message).toContain('w_missing');
    });

    it('refuses a request without a name as INVALID_PARAMS', () => {
      expect(refusal('prompts/get', {}).code).toBe('INVALID_PARAMS');
    });
  });

  describe('resources/read', () => {
    it('routes a listed resource and re-prefixes the URIs of the contents it returns', () => {
      const result = plan('resources/read', { uri: 'test://w_stations', _meta: { x: 1 } });

      expect(result.server.name).toBe('weather');
      expect(result.params).toEqual({ uri: 'test://stations', _meta: { x: 1 } });
      expect(result.target).toEqual({ kind: 'resource', name: 'test://stations' });
      expect(
        result.rewriteResult?.({
          contents: [
            { uri: 'test://stations', text: 'a' },
            { uri: 'test://stations/2', blob: 'Yg==' },
            { text: 'no uri' },
          ],
          _meta: { kept: true },
        }),
      ).toEqual({
        contents: [
          { uri: 'test://w_stations', text: 'a' },
          { uri: 'test://w_stations/2', blob: 'Yg==' },
          { text: 'no uri' },
        ],
        _meta: { kept: true },
      });
    });

    it('routes a URI expanded from a template', () => {
      const result = plan('resources/read', { uri: 'test://w_station/42' });

      expect(result.server.name).toBe('weather');
      expect(result.params).toEqual({ uri: 'test://station/42' });
    });

    it('leaves a result without contents as it is', () => {
      const result = plan('resources/read', { uri: 'test://w_stations' });

      expect(result.rewriteResult?.({ other: 1 })).toEqual({ other: 1 });
    });

    it('needs no result rewrite for an unprefixed server', () => {
      const result = plan('resources/read', { uri: 'file:///readme.md' });

      expect(result.server.name).toBe('plain');
      expect(result.params).toEqual({ uri: 'file:///readme.md' });
      expect(result.rewriteResult).toBeUndefined();
    });

    it('refuses a request without a uri as INVALID_PARAMS', () => {
      expect(refusal('resources/read', { name: 'x' }).code).toBe('INVALID_PARAMS');
    });

    it('refuses a URI no server claims with RESOURCE_NOT_FOUND naming it', () => {
      const prefixedOnly = buildCatalog(
        [SERVERS[0] as ServerConfig],
        new Map([['weather', snapshot('weather', { resources: [{ uri: 'test://stations', name: 'stations' }] })]]),
      );

      const result = planCall(request('resources/read', { uri: 'test://x_stations' }), prefixedOnly, serverOf);

      expect(result).toBeInstanceOf(GatewayError);
      expect((result as GatewayError).code).toBe('RESOURCE_NOT_FOUND');
      expect((result as GatewayError).message).toContain('test://x_stations');
    });
  });

  describe.each(['resources/subscribe', 'resources/unsubscribe'])('%s', (method) => {
    it('routes to the owning server with the prefix removed and no result rewrite', () => {
      const result = plan(method, { uri: 'test://w_station/7' });

      expect(result.server.name).toBe('weather');
      expect(result.params).toEqual({ uri: 'test://station/7' });
      expect(result.target).toEqual({ kind: 'resource', name: 'test://station/7' });
      expect(result.rewriteResult).toBeUndefined();
    });

    it('refuses it for an upstream that speaks only 2026-07-28, which has no such method', () => {
      const decision = decide(
        request(method, { uri: 'test://w_station/7' }),
        'legacy',
        context(CATALOG, serverOf, 'modern'),
      );

      expect(decision.kind).toBe('refuse');
      expect(decision.kind === 'refuse' && decision.error.message).toContain('subscriptions/listen');
    });

    it('is not a 2026-07-28 method', () => {
      const decision = decide(request(method, { uri: 'test://w_station/7' }), 'modern');

      expect(decision.kind === 'refuse' && decision.error.code).toBe('MODERN_METHOD_NOT_FOUND');
    });
  });

  describe('completion/complete', () => {
    it('routes a prompt reference with the prefix removed', () => {
      const params = { ref: { type: 'ref/prompt', name: 'w_summary' }, argument: { name: 'day', value: 'to' } };

      const result = plan('completion/complete', params);

      expect(result.server.name).toBe('weather');
      expect(result.params).toEqual({
        ref: { type: 'ref/prompt', name: 'summary' },
        argument: { name: 'day', value: 'to' },
      });
    });

    it('routes a resource reference with the prefix removed', () => {
      const params = {
        ref: { type: 'ref/resource', uri: 'test://w_station/{id}' },
        argument: { name: 'id', value: '4' },
      };

      const result = plan('completion/complete', params);

      expect(result.server.name).toBe('weather');
      expect(result.params).toEqual({
        ref: { type: 'ref/resource', uri: 'test://station/{id}' },
        argument: { name: 'id', value: '4' },
      });
    });

    it('refuses a reference to an unknown prompt naming it', () => {
      const error = refusal('completion/complete', { ref: { type: 'ref/prompt', name: 'w_nope' } });

      expect(error.code).toBe('PROMPT_NOT_FOUND');
      expect(error.message).toContain('w_nope');
    });

    it.each([
      ['no ref', {}],
      ['an unknown ref type', { ref: { type: 'ref/tool', name: 'w_forecast' } }],
      ['a prompt ref without a name', { ref: { type: 'ref/prompt' } }],
    ])('refuses %s as INVALID_PARAMS', (_label, params) => {
      expect(refusal('completion/complete', params).code).toBe('INVALID_PARAMS');
    });
  });

  it('refuses a method it neither answers nor forwards with METHOD_NOT_FOUND', () => {
    const error = refusal('tools/delete');

    expect(error.code).toBe('METHOD_NOT_FOUND');
    expect(error.rpcCode).toBe(-32601);
    expect(error.message).toContain('tools/delete');
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'])(
    'refuses the Object.prototype member %s as an unknown method in both eras',
    (method) => {
      expect(refusal(method).code).toBe('METHOD_NOT_FOUND');
      const modern = decide(request(method), 'modern');
      expect(modern.kind === 'refuse' && modern.error.code).toBe('MODERN_METHOD_NOT_FOUND');
    },
  );

  it.each([
    [
      'legacy',
      [
        'initialize',
        'ping',
        'logging/setLevel',
        'tools/list',
        'prompts/list',
        'resources/list',
        'resources/templates/list',
      ],
    ],
    [
      'modern',
      [
        'server/discover',
        'subscriptions/listen',
        'tools/list',
        'prompts/list',
        'resources/list',
        'resources/templates/list',
      ],
    ],
  ] as const)('answers the %s methods the gateway serves itself locally', (era, methods) => {
    for (const method of methods) expect(decide(request(method), era).kind).toBe('local');
  });

  it("forwards in the era the context names for the upstream, whatever the client's", () => {
    const decision = decide(
      request('tools/call', { name: 'w_forecast' }),
      'legacy',
      context(CATALOG, serverOf, 'modern'),
    );

    expect(decision.kind === 'forward' && decision.plan.upstreamEra).toBe('modern');
  });
});
