import { createMemorySessionStore, NOOP_LOGGER, type GatewayConfig, type SessionStore } from '@mcp-gateway/core';
import {
  buildCatalog,
  createAccessControl,
  createCallerIdentities,
  createSessionGate,
  createSessionTokens,
} from '@mcp-gateway/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectExtProc,
  exchange as exchangeWith,
  httpHeaders,
  type DecodedAnswer,
  type ExtProcClient,
} from '../../../test/harness/ext-proc-client.ts';
import { createProcessorDeps } from './processor-deps.ts';
import { startExtProcServer, type ExtProcServer } from './processor.ts';

const SIGNING_KEY = 'an-ext-proc-test-signing-key-of-32-bytes-or-more';
const CONFIG: GatewayConfig = {
  servers: [],
  virtualServers: [],
  auth: {
    oauth: {
      issuers: [{ issuer: 'https://idp.example.com' }],
      audience: 'https://mcp.example.com/mcp',
      requiredScopes: [],
    },
  },
};

let processor: ExtProcServer;
let client: ExtProcClient;
let store: SessionStore;

beforeAll(async () => {
  store = createMemorySessionStore();
  const tokens = createSessionTokens({ key: SIGNING_KEY });
  // No request here carries a token: the issuer's keys are never fetched.
  const noFetch = (() => Promise.reject(new Error('no fetch expected'))) as typeof fetch;
  const access = createAccessControl({ config: CONFIG, env: {}, fetch: noFetch, logger: NOOP_LOGGER });
  const deps = createProcessorDeps({
    publicHost: 'mcp.example.com',
    gate: createSessionGate({ tokens, store, callers: createCallerIdentities(), logger: NOOP_LOGGER }),
    routeContext: () => ({
      catalog: buildCatalog([], new Map()),
      serverOf: () => undefined,
      metaToolNames: new Set<string>(),
      upstreamEra: () => 'legacy',
    }),
    access: () => access,
    signingKey: SIGNING_KEY,
    store,
    logger: NOOP_LOGGER,
  });
  processor = await startExtProcServer({ address: '127.0.0.1:0', deps });
  client = connectExtProc(processor.port);
});

afterAll(async () => {
  client?.close();
  await processor?.stop();
  await store?.close();
});

/** The one answer to a request's headers (bodiless unless `body`), sent without a token. */
async function answerTo(method: string, path: string, body?: string): Promise<DecodedAnswer | undefined> {
  const headers = httpHeaders({ ':method': method, ':path': path, ':authority': 'mcp.example.com', ':scheme': 'http' });
  const messages: object[] =
    body === undefined
      ? [{ request_headers: { ...headers, end_of_stream: true } }]
      : [{ request_headers: headers }, { request_body: { body: Buffer.from(body), end_of_stream: true } }];
  const [first] = await exchangeWith(client, messages);
  return first;
}

const statusOf = (answer: DecodedAnswer | undefined) => answer?.['immediate_response']?.['status']?.['code'];

describe('the router with token verification on, for requests without a token', () => {
  it('refuses a POST to the MCP endpoint with 401 before routing it', async () => {
    expect(statusOf(await answerTo('POST', '/mcp', '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'))).toBe(
      'Unauthorized',
    );
  });

  it('refuses a GET of the MCP endpoint with 401, whatever its query', async () => {
    expect(statusOf(await answerTo('GET', '/mcp'))).toBe('Unauthorized');
    expect(statusOf(await answerTo('GET', '/mcp?stream=1'))).toBe('Unauthorized');
  });

  it('passes a request with a body to any other path to the broker unrouted, whatever it holds', async () => {
    const call = '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}';
    const form = 'elicitation_id=abc&csrf_token=x&token=Bearer%20y';
    for (const [path, body] of [
      ['/.well-known/oauth-protected-resource', call],
      ['/tokens', form],
      ['/mcpx', call],
    ] as const) {
      const headers = httpHeaders({
        ':method': 'POST',
        ':path': path,
        ':authority': 'mcp.example.com',
        ':scheme': 'http',
      });
      const [first, second] = await exchangeWith(client, [
        { request_headers: headers },
        { request_body: { body: Buffer.from(body), end_of_stream: true } },
      ]);
      expect(statusOf(first)).toBeUndefined();
      expect(second?.['request_body']?.['response']).toBeUndefined();
    }
  });

  it('sends the protected resource metadata requests to the broker, which serves them without a token', async () => {
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp']) {
      const answer = await answerTo('GET', path);
      expect(answer?.['immediate_response']).toBeUndefined();
      expect(answer?.['request_headers']).toBeDefined();
    }
  });

  it('sends a CORS preflight of the MCP endpoint to the broker, which answers it without a token', async () => {
    const answer = await answerTo('OPTIONS', '/mcp');
    expect(answer?.['immediate_response']).toBeUndefined();
    expect(answer?.['request_headers']).toBeDefined();
  });
});
