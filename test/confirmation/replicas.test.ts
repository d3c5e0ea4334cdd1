// Confirmation across replicas sharing one real Redis: the legacy client's answer to the
// gateway's elicitation reaches another replica than the one holding the call's stream (handed
// over the bus), and a 2026-07-28 retry carrying the gateway's requestState is checked by another
// replica than the one that minted it (signed with the shared key).
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForHealthy } from '../gateway-http/helpers.ts';
import {
  startGateway,
  startRedis,
  startSdkUpstream,
  type RunningGateway,
  type RunningRedis,
  type SdkUpstream,
} from '../harness/index.ts';
import { createRotatingFetch } from '../replicas/cluster.ts';
import { confirmationTools, runsOf, SERVER_YAML, TOP_YAML } from './confirmation.case.ts';

const ACCEPT = { action: 'accept', content: { confirm: true } } as const;

describe('confirmation across two replicas on one Redis', () => {
  let redis: RunningRedis;
  let upstream: SdkUpstream;
  const replicas: RunningGateway[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startSdkUpstream({ name: 'files', setup: confirmationTools });
    const config = `servers:\n  - name: files\n    url: ${JSON.stringify(upstream.url)}\n    prefix: f_\n${SERVER_YAML}${TOP_YAML}`;
    for (let i = 0; i < 2; i++)
      replicas.push(await startGateway({ config, env: { CACHE_CONNECTION_STRING: redis.url } }));
    for (const replica of replicas) await waitForHealthy(replica, 1);
  }, 60_000);

  afterAll(async () => {
    await Promise.allSettled(replicas.map((replica) => replica.stop()));
    await upstream?.stop();
    await redis?.stop();
  });

  it("takes a legacy client's confirmation on the other replica and forwards the call from the first", async () => {
    const rotating = createRotatingFetch(replicas);
    rotating.route = ({ body }) => {
      if (body?.includes('"method":"tools/call"')) return 0;
      if (body !== undefined && !body.includes('"method"')) return 1;
      return undefined;
    };
    const client = new Client({ name: 'confirming', version: '1.0.0' }, { capabilities: { elicitation: {} } });
    await client.connect(new StreamableHTTPClientTransport(new URL(replicas[0]!.url), { fetch: rotating.fetch }));
    try {
      client.setRequestHandler(ElicitRequestSchema, () => ACCEPT);
      const result = await client.callTool({ name: 'f_delete_file', arguments: { path: '/tmp/replicated' } });
      expect(result).toMatchObject({ content: [{ type: 'text', text: 'deleted /tmp/replicated' }] });
      const answers = rotating.sent.filter((sent) => sent.body !== undefined && !sent.body.includes('"method"'));
      expect(answers.map((sent) => sent.replica)).toEqual([1]);
      expect(runsOf(upstream, 'delete_file', '/tmp/replicated')).toBe(1);
    } finally {
      await client.close();
    }
  });

  it("checks a 2026-07-28 client's confirmation on the other replica", async () => {
    const rotating = createRotatingFetch(replicas);
    // The call to the first replica, its retry to the second.
    let calls = 0;
    rotating.route = ({ body }) => (body?.includes('"method":"tools/call"') ? calls++ % 2 : undefined);
    const client = new ClientV2(
      { name: 'confirming-modern', version: '2.0.0' },
      { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(new TransportV2(new URL(replicas[0]!.url), { fetch: rotating.fetch }));
    try {
      client.setRequestHandler('elicitation/create', () => ACCEPT);
      const before = rotating.sent.length;
      const result = await client.callTool({ name: 'f_delete_file', arguments: { path: '/tmp/replicated-modern' } });
      expect(result).toMatchObject({ content: [{ type: 'text', text: 'deleted /tmp/replicated-modern' }] });
      const sent = rotating.sent.slice(before).filter((one) => one.body?.includes('"method":"tools/call"'));
      expect(sent.map((one) => one.replica)).toEqual([0, 1]);
      expect(sent[1]?.body).toContain('mcpgw-confirm:');
      expect(runsOf(upstream, 'delete_file', '/tmp/replicated-modern')).toBe(1);
    } finally {
      await client.close();
    }
  });
});
