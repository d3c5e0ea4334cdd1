import { createMemorySessionStore, NOOP_LOGGER, type ServerConfig, type SessionStore } from '@mcp-gateway/core';
import { NO_METRICS, unverified, type CallFact, type GatewayMetrics } from '@mcp-gateway/core/router';
import {
  buildCatalog,
  createAccessControl,
  createCallerIdentities,
  createSessionGate,
  createSessionTokens,
} from '@mcp-gateway/core/testing';
import diagnosticsChannel from 'node:diagnostics_channel';
import type { ServerHttp2Stream } from 'node:http2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  connectExtProc,
  exchange as exchangeWith,
  exchangeLikeEnvoy,
  httpHeaders,
  type DecodedAnswer as Decoded,
  type ExtProcClient,
} from '../../../test/harness/ext-proc-client.ts';
import { pollUntil } from '../../../test/gateway-http/helpers.ts';
import { startSdkUpstream, type SdkUpstream } from '../../../test/harness/sdk-upstream.ts';
import { createProcessorDeps } from './processor-deps.ts';
import { startExtProcServer, type ExtProcServer } from './processor.ts';

const SIGNING_KEY = 'an-ext-proc-test-signing-key-of-32-bytes-or-more';
const tokens = createSessionTokens({ key: SIGNING_KEY });
let upstream: SdkUpstream;
let processor: ExtProcServer;
let store: SessionStore;
let weather: ServerConfig;
let client: ExtProcClient;

beforeAll(async () => {
  upstream = await startSdkUpstream({
    setup(server) {
      server.registerTool('forecast', { inputSchema: { city: z.string() } }, ({ city }) => ({
        content: [{ type: 'text', text: `sunny in ${city}` }],
      }));
    },
  });
  weather = {
    name: 'ns/weather',
    url: upstream.url,
    hostname: 'weather.mcp.local',
    prefix: 'weather_',
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
  };
  const catalog = buildCatalog(
    [weather],
    new Map([
      [
        weather.name,
        {
          server: weather.name,
          ready: true,
          message: 'ok',
          capabilities: {},
          tools: [{ name: 'forecast', inputSchema: { type: 'object' } }],
          prompts: [],
          resources: [],
          resourceTemplates: [],
          invalidTools: [],
          invalidPrompts: [],
          consecutiveFailures: 0,
        },
      ],
    ]),
  );
  store = createMemorySessionStore();
  const gate = createSessionGate({ tokens, store, callers: createCallerIdentities(), logger: NOOP_LOGGER });
  const deps = createProcessorDeps({
    publicHost: 'mcp.example.com',
    gate,
    routeContext: () => ({
      catalog,
      serverOf: (name) => (name === weather.name ? weather : undefined),
      metaToolNames: new Set<string>(),
      upstreamEra: () => 'legacy',
    }),
    access: () =>
      createAccessControl({ config: { servers: [], virtualServers: [] }, env: {}, fetch, logger: NOOP_LOGGER }),
    signingKey: SIGNING_KEY,
    store,
    logger: NOOP_LOGGER,
    metrics: recorded,
  });
  processor = await startExtProcServer({ address: '127.0.0.1:0', deps });
  client = connectExtProc(processor.port);
});

afterAll(async () => {
  client?.close();
  await processor?.stop();
  await upstream?.stop();
  await store?.close();
});

/** What the processor counted (a GatewayMetrics that keeps the facts). */
const counted = { phases: [] as string[], calls: [] as CallFact[] };
const recorded: GatewayMetrics = {
  ...NO_METRICS,
  routerPhase: (phase) => void counted.phases.push(phase),
  call: (fact) => void counted.calls.push(fact),
};

/** One stream's exchange with the processor under test. */
const exchange = (messages: object[]): Promise<Decoded[]> => exchangeWith(client, messages);

const setHeaders = (common: Decoded | undefined): Record<string, string> =>
  Object.fromEntries(
    (common?.['header_mutation']?.['set_headers'] ?? []).map((option: Decoded) => [
      option['header']['key'],
      Buffer.from(option['header']['raw_value']).toString(),
    ]),
  );

/** A session the broker opened for the `Bearer user-token` caller the call messages carry. */
async function newSession(): Promise<string> {
  const caller = await createCallerIdentities().identify(unverified('Bearer user-token'));
  const { token } = await tokens.issue({
    protocolVersion: '2025-11-25',
    clientCapabilities: {},
    ...(caller === undefined ? {} : { caller }),
  });
  return token;
}

const callMessages = (token: string, status = '200') => [
  {
    request_headers: httpHeaders({
      ':authority': 'client-chosen.example',
      ':path': '/mcp',
      'mcp-session-id': token,
      authorization: 'Bearer user-token',
      'x-mcp-servername': 'ns/other',
    }),
  },
  {
    request_body: {
      body: Buffer.from(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'weather_forecast', arguments: { city: 'Oslo' } },
        }),
      ),
      end_of_stream: true,
    },
  },
  { response_headers: httpHeaders({ ':status': status, 'mcp-session-id': 'whatever-the-upstream-said' }) },
];

describe('ext_proc processor', () => {
  it('routes a tools/call through all three phases and ends the stream', async () => {
    const token = await newSession();
    const [headers, body, response, ...rest] = await exchange(callMessages(token));
    expect(rest).toEqual([]);

    expect(headers?.['response']).toBe('request_headers');
    expect(setHeaders(headers?.['request_headers']?.['response'])).toEqual({ ':authority': 'mcp.example.com' });
    expect(headers?.['request_headers']?.['response']?.['header_mutation']?.['remove_headers']).toContain(
      'x-mcp-servername',
    );

    const backendId = upstream.sessions()[0];
    expect(backendId).toBeDefined();
    const common = body?.['request_body']?.['response'];
    const newBody =
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"forecast","arguments":{"city":"Oslo"}}}';
    expect(setHeaders(common)).toEqual({
      ':authority': 'weather.mcp.local',
      ':path': '/mcp',
      'x-mcp-method': 'tools/call',
      'x-mcp-servername': 'ns/weather',
      'x-mcp-toolname': 'forecast',
      'mcp-session-id': backendId,
      'content-length': String(newBody.length),
    });
    expect(Buffer.from(common?.['body_mutation']?.['body']).toString()).toBe(newBody);
    expect(common?.['clear_route_cache']).toBe(true);
    const metadata = body?.['dynamic_metadata']?.['fields']?.['mcp-gateway']?.['structValue']?.['fields'];
    expect(metadata?.['tool']).toEqual({ stringValue: 'forecast', kind: 'stringValue' });

    expect(setHeaders(response?.['response_headers']?.['response'])).toEqual({ 'mcp-session-id': token });

    const initialize = upstream.requests.find((request) => request.method === 'initialize');
    expect(initialize?.headers['authorization']).toBe('Bearer user-token');
  });

  it.each(['/status/x', '/.well-known/oauth-protected-resource/mcp', '/healthz?x=/mcp'])(
    "routes nothing sent to one of the broker's own paths (%s): the broker has it",
    async (path) => {
      const token = await newSession();
      const headers = {
        request_headers: httpHeaders({ ':authority': 'mcp.example.com', ':path': path, 'mcp-session-id': token }),
      };
      const before = upstream.requests.length;
      const [, body, ...rest] = await exchange([headers, callMessages(token)[1]!]);
      expect(rest).toEqual([]);
      expect(body?.['request_body']).toEqual({});
      expect(upstream.requests.length).toBe(before);
    },
  );

  it('counts each phase it answers and, once the exchange ends, the call it routed', async () => {
    const token = await newSession();
    counted.phases.length = 0;
    counted.calls.length = 0;
    await exchange(callMessages(token));
    await pollUntil(
      async () => counted.calls.length,
      (count) => count === 1,
      { what: 'the routed call to be counted' },
    );
    expect(counted.phases).toEqual(['request_headers', 'request_body', 'response_headers']);
    expect(counted.calls).toEqual([
      expect.objectContaining({
        host: 'router',
        method: 'tools/call',
        server: 'ns/weather',
        kind: 'tool',
        name: 'weather_forecast',
        outcome: 'ok',
      }),
    ]);
  });

  it('opens one backend session for concurrent first calls of one gateway session', async () => {
    const token = await newSession();
    const before = upstream.initializeCount;
    const results = await Promise.all(Array.from({ length: 8 }, () => exchange(callMessages(token))));
    expect(upstream.initializeCount - before).toBe(1);
    const ids = new Set(results.map(([, body]) => setHeaders(body?.['request_body']?.['response'])['mcp-session-id']));
    expect(ids.size).toBe(1);
  });

  it('evicts the backend session on a 404 so the next call opens a new one', async () => {
    const token = await newSession();
    const [, first] = await exchange(callMessages(token, '404'));
    const firstId = setHeaders(first?.['request_body']?.['response'])['mcp-session-id'];
    const [, second] = await exchange(callMessages(token));
    const secondId = setHeaders(second?.['request_body']?.['response'])['mcp-session-id'];
    expect(secondId).toBeDefined();
    expect(secondId).not.toBe(firstId);
  });

  it('answers malformed JSON with an immediate 400 and ends the stream', async () => {
    const answers = await exchange([
      { request_headers: httpHeaders({ ':authority': 'mcp.example.com', ':path': '/mcp' }) },
      { request_body: { body: Buffer.from('{"jsonrpc":'), end_of_stream: true } },
    ]);
    const immediate = answers[1]?.['immediate_response'];
    expect(answers).toHaveLength(2);
    expect(immediate?.['status']).toEqual({ code: 'BadRequest' });
    expect(Buffer.from(immediate?.['body']).toString()).toMatch(/^Parse error/);
  });

  it('rejects a call on a session the gateway did not issue with 404', async () => {
    const answers = await exchange(callMessages('not-a-session'));
    expect(answers[1]?.['immediate_response']?.['status']).toEqual({ code: 'NotFound' });
  });

  it('sends a tools/list to the broker and closes the stream: its response is not asked about', async () => {
    const token = await newSession();
    const answers = await exchange([
      { request_headers: httpHeaders({ ':authority': 'mcp.example.com', ':path': '/mcp', 'mcp-session-id': token }) },
      { request_body: { body: Buffer.from('{"jsonrpc":"2.0","id":2,"method":"tools/list"}'), end_of_stream: true } },
      { response_headers: httpHeaders({ ':status': '200', 'mcp-session-id': token }) },
    ]);
    // Two answers, then the processor ends the stream (Envoy then passes the response on unasked).
    expect(answers).toHaveLength(2);
    expect(setHeaders(answers[1]?.['request_body']?.['response'])).toEqual({
      'x-mcp-method': 'tools/list',
      'x-mcp-servername': 'mcpBroker',
    });
  });

  it('closes the stream cleanly on a phase it does not handle', async () => {
    const answers = await exchange([{ response_trailers: { trailers: { headers: [] } } }]);
    expect(answers).toEqual([]);
  });

  it.each([
    [
      'a routed call (after the answer, whose body the processor checks)',
      4,
      (token: string) => [
        ...callMessages(token),
        {
          response_body: {
            body: Buffer.from('{"jsonrpc":"2.0","id":1,"result":{"content":[]}}'),
            end_of_stream: true,
          },
        },
      ],
    ],
    [
      'a call for the broker (after the request body)',
      2,
      (token: string) => [
        { request_headers: httpHeaders({ ':authority': 'mcp.example.com', ':path': '/mcp', 'mcp-session-id': token }) },
        { request_body: { body: Buffer.from('{"jsonrpc":"2.0","id":2,"method":"tools/list"}'), end_of_stream: true } },
      ],
    ],
  ])(
    'closes the stream of %s with its status and RST_STREAM NO_ERROR before Envoy resets it',
    async (_label, answered, messages) => {
      // Node turns a peer's reset with any other code than NO_ERROR or CANCEL into an Error with a
      // stack; Envoy resets every finished ext_proc stream with INTERNAL_ERROR.
      const closeCodes: (number | undefined)[] = [];
      const onClose = (message: unknown) => closeCodes.push((message as { stream: ServerHttp2Stream }).stream.rstCode);
      diagnosticsChannel.subscribe('http2.server.stream.close', onClose);
      try {
        const result = await exchangeLikeEnvoy(processor.port, messages(await newSession()));

        expect(result.answers).toHaveLength(answered);
        expect(result).toMatchObject({ grpcStatus: '0', closedBy: 'processor', rstCode: 0 });
        expect(closeCodes).toEqual([0]);
      } finally {
        diagnosticsChannel.unsubscribe('http2.server.stream.close', onClose);
      }
    },
  );
});
