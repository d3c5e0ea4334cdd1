// Issue 11, item 9, through three replicas on one Redis: the TypeScript SDK 1.x server's
// `server.elicitInput` sent without a related request goes on the session's standalone stream,
// which the replica holding the client's GET opens only once the bus tells it that another
// replica created the backend session for the first call. Sent before that, it is dropped.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../gateway-calls/helpers.ts';
import { connectRotatingClient, createRotatingFetch, startCluster, type Cluster } from '../replicas/cluster.ts';
import {
  ANSWERING_CAPABILITIES,
  answerServerRequests,
  ELICITED_NAME,
  firstText,
  runFirstCalls,
} from './first-calls.ts';

/** Fresh sessions; today about a third of them lose the elicitation (see the report). */
const SESSIONS = 40;
const CONCURRENCY = 4;
const UPSTREAM_TIMEOUT_S = 3;
const CALL_TIMEOUT_MS = 8_000;
const TEST_TIMEOUT_MS = Math.ceil(SESSIONS / CONCURRENCY) * (UPSTREAM_TIMEOUT_S * 1000 + 500) + 20_000;

function setup(server: McpServer): void {
  server.registerTool('elicit_now', { description: 'Asks the user for a name on the session stream' }, async () => {
    // No relatedRequestId: the SDK sends the request on the standalone GET stream.
    const answer = await server.server.elicitInput({
      mode: 'form',
      message: 'Who are you?',
      requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
    });
    return { content: [{ type: 'text', text: `elicited: ${String(answer.content?.['name'])}` }] };
  });
}

describe('an elicitation a TypeScript SDK server sends on the session during the first call, via three replicas', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster(setup, { gatewayArgs: ['--upstream-timeout', String(UPSTREAM_TIMEOUT_S)] });
    for (const replica of cluster.replicas) {
      await waitFor('the upstream listed on every replica', async () => {
        const { client, transport } = await connectRotatingClient(cluster, createRotatingFetch([replica]));
        try {
          const { tools } = await client.listTools();
          return tools.some((tool) => tool.name === 'r_elicit_now') ? true : undefined;
        } finally {
          await transport.terminateSession().catch(() => undefined);
          await client.close();
        }
      });
    }
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it(
    `reaches the client in each of ${SESSIONS} fresh sessions whose requests rotate across the replicas`,
    async () => {
      const report = await runFirstCalls({
        sessions: SESSIONS,
        concurrency: CONCURRENCY,
        expected: `elicited: ${ELICITED_NAME}`,
        run: async () => {
          const { client, transport } = await connectRotatingClient(
            cluster,
            createRotatingFetch(cluster.replicas),
            ANSWERING_CAPABILITIES,
          );
          try {
            answerServerRequests(client);
            const result = await client.callTool({ name: 'r_elicit_now', arguments: {} }, undefined, {
              timeout: CALL_TIMEOUT_MS,
            });
            return firstText(result);
          } finally {
            await transport.terminateSession().catch(() => undefined);
            await client.close();
          }
        },
      });
      console.log(`typescript elicitation/create during first calls via 3 replicas: ${report.summary}`);
      expect(report.failures, report.summary).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
