// Shared fixtures of the request-body translator's tests: two servers, their catalog, a session,
// injected effects that record what they were asked, and a readable form of the answers.
import { createMemorySessionStore, NOOP_LOGGER, type ServerConfig } from '@mcp-gateway/core';
import {
  createBackendInitTokens,
  NO_METRICS,
  NO_TRACER,
  unverified,
  type RouteContext,
  type SessionClaims,
  NO_USER_CREDENTIALS,
} from '@mcp-gateway/core/router';
import {
  buildCatalog,
  createAccessControl,
  createCallerIdentities,
  NO_AUDIT,
  createSessionGate,
  createSessionTokens,
  type UpstreamSnapshot,
} from '@mcp-gateway/core/testing';
import type { HttpBody, ProcessingResponse } from './ext-proc-messages.ts';
import { translateRequestBody, type RequestBodyDeps, type RequestBodyResult } from './translate-request-body.ts';

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

/** The gateway's session tokens and store: sessions are opened as the broker opens them. */
export const tokens = createSessionTokens({ key: 'a-session-key-of-the-router-tests-0123' });
export const store = createMemorySessionStore();
export const gate = createSessionGate({ tokens, store, callers: createCallerIdentities(), logger: NOOP_LOGGER });

/** A session the broker opened for `Bearer user` (its token is the client's Mcp-Session-Id). */
export const session = await tokens.issue({
  protocolVersion: '2025-11-25',
  clientCapabilities: {},
  caller: await callerOf('Bearer user'),
});
export const claims: SessionClaims = session.claims;
export const clientHeaders = new Map([
  ['mcp-session-id', session.token],
  ['authorization', 'Bearer user'],
]);

async function callerOf(authorization: string): Promise<string> {
  return (await createCallerIdentities().identify(unverified(authorization))) as string;
}

/** The access decisions of a config without access sections: everything allowed, nothing verified. */
export const openAccess = createAccessControl({
  config: { servers: [], virtualServers: [] },
  env: {},
  fetch,
  logger: NOOP_LOGGER,
});

/** The request-body phase as the processor runs it when token verification is off. */
export function translate(
  body: HttpBody,
  headers: ReadonlyMap<string, string>,
  deps: RequestBodyDeps,
): Promise<RequestBodyResult> {
  return translateRequestBody(body, headers, deps, unverified(headers.get('authorization')));
}

/** The route context over the catalog; upstreams speak `modern` when named there. */
export function routeContext(modern: readonly string[] = []): RouteContext {
  return {
    catalog,
    serverOf: (name) => [weather, plain].find((s) => s.name === name),
    metaToolNames: new Set<string>(),
    upstreamEra: (server) => (modern.includes(server.name) ? 'modern' : 'legacy'),
  };
}

export function deps(overrides: Partial<RequestBodyDeps> = {}, modern: readonly string[] = []) {
  const ensured: [string, string, string | undefined][] = [];
  const value: RequestBodyDeps = {
    maxBodyBytes: 1024,
    gate,
    routeContext: () => routeContext(modern),
    access: () => openAccess,
    auditor: () => NO_AUDIT,
    tracer: NO_TRACER,
    logger: NOOP_LOGGER,
    metrics: NO_METRICS,
    credentials: NO_USER_CREDENTIALS,
    // No server here has quotas (test/quotas covers them through a real Envoy).
    admitQuota: () => Promise.resolve(undefined),
    quotaCheck: () => undefined,
    identifyCaller: () => Promise.resolve(undefined),
    serverOf: (name) => routeContext().serverOf(name),
    verifyBackendInit: (token, host) => initTokens.verify(token, host),
    ensureBackendSession: async (owner, server, headers, known) => {
      ensured.push([owner.jti, server.name, headers.get('authorization')]);
      if (known !== undefined) return known;
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
