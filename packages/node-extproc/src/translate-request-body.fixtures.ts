// Shared fixtures of the request-body translator's tests: two servers, their catalog, a session,
// injected effects that record what they were asked, and a readable form of the answers.
import {
  buildCatalog,
  createBackendInitTokens,
  type ServerConfig,
  type SessionClaims,
  type UpstreamSnapshot,
} from '@mcp-gateway/core';
import type { ProcessingResponse } from './ext-proc-messages.ts';
import type { RequestBodyDeps } from './translate-request-body.ts';

export const weather: ServerConfig = {
  name: 'ns/weather',
  url: 'http://weather.internal:8080/v1/mcp',
  hostname: 'weather.mcp.local',
  prefix: 'weather_',
  enabled: true,
  userSpecificList: false,
  category: [],
  tags: [],
};
export const plain: ServerConfig = {
  ...weather,
  name: 'ns/plain',
  url: 'http://plain.internal/mcp',
  hostname: 'plain.mcp.local',
  prefix: 'plain_',
};

export function snapshot(server: string, items: Partial<UpstreamSnapshot>): UpstreamSnapshot {
  return {
    server,
    ready: true,
    message: 'ok',
    capabilities: {},
    tools: [],
    prompts: [],
    resources: [],
    resourceTemplates: [],
    invalidTools: [],
    invalidPrompts: [],
    consecutiveFailures: 0,
    ...items,
  };
}

export const catalog = buildCatalog(
  [weather, plain],
  new Map([
    [
      weather.name,
      snapshot(weather.name, {
        tools: [{ name: 'forecast', inputSchema: { type: 'object' } }],
        prompts: [{ name: 'summary' }],
        resources: [{ uri: 'file:///today.txt', name: 'today' }],
      }),
    ],
    [plain.name, snapshot(plain.name, { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] })],
  ]),
);

export const INIT_KEY = 'a-backend-init-test-key-of-32-bytes-or-more';
export const initTokens = createBackendInitTokens({ key: INIT_KEY });

export const claims: SessionClaims = {
  jti: 'jti-1',
  exp: 4_000_000_000,
  protocolVersion: '2025-11-25',
  clientCapabilities: {},
};
export const clientHeaders = new Map([
  ['mcp-session-id', 'gateway-token'],
  ['authorization', 'Bearer user'],
]);

export function deps(overrides: Partial<RequestBodyDeps> = {}) {
  const ensured: [string, string, string | undefined][] = [];
  const value: RequestBodyDeps = {
    maxBodyBytes: 1024,
    catalog: () => catalog,
    serverOf: (name) => [weather, plain].find((s) => s.name === name),
    verifySession: async (token) => (token === 'gateway-token' ? claims : undefined),
    verifyBackendInit: (token, host) => initTokens.verify(token, host),
    upstreamProtocolVersion: () => undefined,
    ensureBackendSession: async (session, server, headers) => {
      ensured.push([session.jti, server.name, headers.get('authorization')]);
      return server.name === plain.name ? '' : 'backend-1';
    },
    ...overrides,
  };
  return { deps: value, ensured };
}

export const encode = (value: unknown) =>
  new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
export const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** The answer with bytes decoded, for exact comparisons. */
export function readable(response: ProcessingResponse) {
  if ('immediate_response' in response) {
    const { status, body, headers } = response.immediate_response;
    const set = headers?.set_headers?.map((o) => [o.header.key, text(o.header.raw_value)]);
    return { immediate: { status: status.code, body: text(body), headers: set } };
  }
  if (!('request_body' in response)) throw new Error('expected a request_body answer');
  const common = response.request_body.response;
  return {
    set: common?.header_mutation?.set_headers?.map((o) => [o.header.key, text(o.header.raw_value)]),
    remove: common?.header_mutation?.remove_headers,
    body: common?.body_mutation === undefined ? undefined : JSON.parse(text(common.body_mutation.body)),
    clearRouteCache: common?.clear_route_cache,
    metadata: response.dynamic_metadata,
  };
}

export const call = (method: string, params: unknown) => encode({ jsonrpc: '2.0', id: 7, method, params });
