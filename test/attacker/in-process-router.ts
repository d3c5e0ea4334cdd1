// The router's translation functions called in process, as the processor calls them for each
// phase Envoy asks about, over a small catalog: a legacy upstream (a real SDK server, so backend
// sessions really open) and a 2026-07-28 one that is routed without being contacted.
import { createMemorySessionStore, NOOP_LOGGER, type ServerConfig } from '@mcp-gateway/core';
import { unverified } from '@mcp-gateway/core/router';
import {
  buildCatalog,
  createAccessControl,
  createCallerIdentities,
  createSessionGate,
  createSessionTokens,
} from '@mcp-gateway/core/testing';
import {
  createProcessorDeps,
  translateRequestBody,
  translateRequestHeaders,
  type ProcessingResponse,
} from '@mcp-gateway/node-extproc';
import { TEST_SIGNING_KEY } from '../harness/index.ts';
import type { FuzzContext, FuzzRequest } from './fuzz-cases.ts';
import { LEGACY_VERSION } from './http-hosts.ts';
import { PUBLIC_HOST } from './router-host.ts';

/** Upstream host names of the catalog: an answer setting `:authority` to one routes to an upstream. */
export const UPSTREAM_HOSTS = ['targets.mcp.local', 'modern.mcp.local'];

/** A router in process. */
export interface InProcessRouter {
  /** A live session (no caller) and an ended one, both issued with the router's key. */
  readonly sessions: FuzzContext['sessions'];
  /** The answers to the request-headers phase and, unless that answer ends the request, the request-body phase. */
  translate(request: FuzzRequest): Promise<ProcessingResponse[]>;
  close(): Promise<void>;
}

const server = (name: string, url: string, prefix: string): ServerConfig => ({
  name,
  url,
  hostname: `${name}.mcp.local`,
  prefix,
  enabled: true,
  userSpecificList: false,
  category: [],
  tags: [],
});

const snapshot = (name: string, tools: string[], extra: Record<string, unknown> = {}) => ({
  server: name,
  ready: true,
  message: 'ok',
  capabilities: {},
  tools: tools.map((tool) => ({ name: tool, inputSchema: { type: 'object' } })),
  prompts: [],
  resources: [],
  resourceTemplates: [],
  invalidTools: [],
  invalidPrompts: [],
  consecutiveFailures: 0,
  ...extra,
});

/** Builds the router's dependencies over `targetsUrl` (an SDK upstream with echo, greet and test://doc). */
export async function createInProcessRouter(targetsUrl: string): Promise<InProcessRouter> {
  const legacy = server('targets', targetsUrl, 't_');
  // Port 9 (discard): nothing there answers, and nothing needs to.
  const modern = server('modern', 'http://127.0.0.1:9/mcp', 'm_');
  const catalog = buildCatalog(
    [legacy, modern],
    new Map([
      [
        legacy.name,
        snapshot(legacy.name, ['echo'], {
          prompts: [{ name: 'greet' }],
          resources: [{ uri: 'test://doc', name: 'doc' }],
        }),
      ],
      [modern.name, snapshot(modern.name, ['shout'])],
    ]) as unknown as Parameters<typeof buildCatalog>[1],
  );
  const tokens = createSessionTokens({ key: TEST_SIGNING_KEY });
  const store = createMemorySessionStore();
  const gate = createSessionGate({ tokens, store, callers: createCallerIdentities(), logger: NOOP_LOGGER });
  const access = createAccessControl({
    config: { servers: [], virtualServers: [] },
    env: {},
    fetch,
    logger: NOOP_LOGGER,
  });
  const deps = createProcessorDeps({
    publicHost: PUBLIC_HOST,
    gate,
    routeContext: () => ({
      catalog,
      serverOf: (name) => [legacy, modern].find((s) => s.name === name),
      metaToolNames: new Set<string>(),
      upstreamEra: (target) => (target.name === modern.name ? 'modern' : 'legacy'),
    }),
    access: () => access,
    signingKey: TEST_SIGNING_KEY,
    store,
    logger: NOOP_LOGGER,
  });
  const live = await tokens.issue({ protocolVersion: LEGACY_VERSION, clientCapabilities: {} });
  const ended = await tokens.issue({ protocolVersion: LEGACY_VERSION, clientCapabilities: { elicitation: {} } });
  await store.terminate(ended.claims.jti, 3_600);
  return {
    sessions: [
      { id: live.token, authorization: undefined },
      { id: ended.token, authorization: undefined },
    ],
    async translate(request) {
      const headers = new Map<string, string>([
        [':method', 'POST'],
        [':authority', PUBLIC_HOST],
        [':path', '/mcp'],
        ...Object.entries(request.headers),
      ]);
      const first = translateRequestHeaders(PUBLIC_HOST, { headers, endOfStream: false });
      if ('immediate_response' in first || first.mode_override?.request_body_mode === 'NONE') return [first];
      const body = typeof request.body === 'string' ? new TextEncoder().encode(request.body) : request.body;
      const second = await translateRequestBody(
        { body, end_of_stream: true },
        headers,
        deps,
        unverified(headers.get('authorization')),
      );
      return [first, second.response];
    },
    close: () => store.close(),
  };
}

/** Whether `answer` routes the request to an upstream (sets `:authority` to an upstream's host). */
export function routesToUpstream(answer: ProcessingResponse): boolean {
  const common = (
    answer as {
      request_body?: {
        response?: {
          header_mutation?: { set_headers?: readonly { header: { key: string; raw_value: Uint8Array } }[] };
        };
      };
    }
  ).request_body?.response;
  return (common?.header_mutation?.set_headers ?? []).some(
    (option) =>
      option.header.key === ':authority' && UPSTREAM_HOSTS.includes(Buffer.from(option.header.raw_value).toString()),
  );
}
