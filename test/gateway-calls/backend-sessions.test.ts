import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  connectSdkClient,
  startSdkUpstream,
  type RecordedRequest,
  type RunningGateway,
  type SdkUpstream,
} from '../harness/index.ts';
import { connectWhenListed, requestsOf, startGatewayFor, waitFor } from './helpers.ts';

const CREDENTIAL = 'Bearer gateway-own-credential';

function echoSetup(server: McpServer) {
  server.registerTool('echo', { inputSchema: { text: z.string() } }, ({ text }) => ({
    content: [{ type: 'text', text }],
  }));
}

/** The tools/call requests an upstream received with `marker` as their text argument. */
function callsMarked(upstream: SdkUpstream, marker: string): RecordedRequest[] {
  return requestsOf(upstream.requests, 'tools/call').filter(
    (request) => (request.params as { arguments?: { text?: unknown } }).arguments?.text === marker,
  );
}

/** The one upstream session that carried the calls marked `marker`. */
function sessionOfCalls(upstream: SdkUpstream, marker: string): string {
  const ids = new Set(callsMarked(upstream, marker).map((request) => request.sessionId));
  expect(ids.size).toBe(1);
  const [id] = ids;
  expect(id).toEqual(expect.any(String));
  return id as string;
}

describe('backend sessions', () => {
  let upstreamA: SdkUpstream;
  let upstreamB: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstreamA = await startSdkUpstream({ name: 'a', setup: echoSetup });
    upstreamB = await startSdkUpstream({ name: 'b', setup: echoSetup });
    gateway = await startGatewayFor([
      { name: 'server-a', url: upstreamA.url, prefix: 'a_', credential: CREDENTIAL },
      { name: 'server-b', url: upstreamB.url, prefix: 'b_' },
    ]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstreamA?.stop();
    await upstreamB?.stop();
  });

  it("opens a backend session on a client's first call and reuses it for later calls", async () => {
    const { client, close } = await connectWhenListed(gateway, ['a_echo']);
    try {
      const initializesBefore = upstreamA.initializeCount;
      for (let i = 0; i < 3; i++) await client.callTool({ name: 'a_echo', arguments: { text: 'reuse' } });

      expect(upstreamA.initializeCount).toBe(initializesBefore + 1);
      expect(callsMarked(upstreamA, 'reuse')).toHaveLength(3);
      const backend = sessionOfCalls(upstreamA, 'reuse');
      // Not the session the gateway lists and health-checks on.
      expect(requestsOf(upstreamA.requests, 'tools/list').map((request) => request.sessionId)).not.toContain(backend);
    } finally {
      await close();
    }
  });

  it('opens exactly one backend session for ten concurrent first calls of one client', async () => {
    const { client, close } = await connectWhenListed(gateway, ['a_echo']);
    try {
      const initializesBefore = upstreamA.initializeCount;
      const results = await Promise.all(
        Array.from({ length: 10 }, () => client.callTool({ name: 'a_echo', arguments: { text: 'burst' } })),
      );

      expect(results.every((result) => result.isError !== true)).toBe(true);
      expect(upstreamA.initializeCount).toBe(initializesBefore + 1);
      expect(callsMarked(upstreamA, 'burst')).toHaveLength(10);
      sessionOfCalls(upstreamA, 'burst');
    } finally {
      await close();
    }
  });

  it('gives two clients two different backend sessions', async () => {
    const first = await connectWhenListed(gateway, ['a_echo']);
    const second = await connectSdkClient(gateway.url, { version: 2 });
    try {
      await first.client.callTool({ name: 'a_echo', arguments: { text: 'client-one' } });
      await second.client.callTool({ name: 'a_echo', arguments: { text: 'client-two' } });

      expect(sessionOfCalls(upstreamA, 'client-one')).not.toBe(sessionOfCalls(upstreamA, 'client-two'));
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('carries on over a new backend session after the upstream forgot the old one', async () => {
    const { client, close } = await connectWhenListed(gateway, ['a_echo']);
    try {
      await client.callTool({ name: 'a_echo', arguments: { text: 'before-expiry' } });
      const old = sessionOfCalls(upstreamA, 'before-expiry');
      await upstreamA.expireSession(old);

      const result = await client.callTool({ name: 'a_echo', arguments: { text: 'after-expiry' } });

      expect(result.content).toEqual([{ type: 'text', text: 'after-expiry' }]);
      const successful = callsMarked(upstreamA, 'after-expiry').filter((request) => request.sessionId !== old);
      expect(successful).toHaveLength(1);
      expect(upstreamA.sessions()).toContain(successful[0]?.sessionId);
    } finally {
      await close();
    }
  });

  it("sends the client's Authorization on its calls and the server credential only on the gateway's own requests", async () => {
    const clientAuth = 'Bearer client-token-42';
    const { client, close } = await connectWhenListed(gateway, ['a_echo'], { authorization: clientAuth });
    try {
      const seenBefore = upstreamA.requests.length;
      await client.callTool({ name: 'a_echo', arguments: { text: 'with-auth' } });
      const backend = sessionOfCalls(upstreamA, 'with-auth');

      const clientTraffic = upstreamA.requests
        .slice(seenBefore)
        .filter((request) => request.sessionId === backend || request.method === 'initialize');
      expect(clientTraffic.map((request) => request.method)).toEqual(
        expect.arrayContaining(['initialize', 'tools/call']),
      );
      expect(clientTraffic.map((request) => request.headers['authorization'])).toEqual(
        clientTraffic.map(() => clientAuth),
      );
      const withCredential = upstreamA.requests.filter((request) => request.headers['authorization'] === CREDENTIAL);
      expect(withCredential.map((request) => request.method)).toContain('tools/list');
      expect(withCredential.map((request) => request.method)).not.toContain('tools/call');
      expect(withCredential.map((request) => request.sessionId)).not.toContain(backend);
    } finally {
      await close();
    }
  });

  it('ends the backend sessions on every upstream the client used when the client ends its session', async () => {
    const { client, close } = await connectWhenListed(gateway, ['a_echo', 'b_echo']);
    await client.callTool({ name: 'a_echo', arguments: { text: 'to-be-deleted' } });
    await client.callTool({ name: 'b_echo', arguments: { text: 'to-be-deleted' } });
    const backendA = sessionOfCalls(upstreamA, 'to-be-deleted');
    const backendB = sessionOfCalls(upstreamB, 'to-be-deleted');
    const deletesOf = (upstream: SdkUpstream, id: string) =>
      upstream.httpRequests.filter(
        (request) => request.method === 'DELETE' && request.headers['mcp-session-id'] === id,
      );
    expect(deletesOf(upstreamA, backendA)).toHaveLength(0);

    await close();

    await waitFor('DELETEs of both backend sessions', () =>
      deletesOf(upstreamA, backendA).length > 0 && deletesOf(upstreamB, backendB).length > 0 ? true : undefined,
    );
    expect(upstreamA.sessions()).not.toContain(backendA);
    expect(upstreamB.sessions()).not.toContain(backendB);
    // The gateway's own session (listing, health) stays open.
    expect(upstreamA.sessions().length).toBeGreaterThan(0);
  });
});
