// Issue 11, item 11: an upstream that speaks both eras. The gateway talks 2026-07-28 to it, so a
// 2025-11-25 client loses what that era cannot carry: the requests the upstream sends during a
// call (sampling, elicitation) and resources/subscribe. Through the gateway a client must get
// everything it gets from the upstream directly.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ResourceUpdatedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareThroughGateway, summarizeReport, toUnprefixedGatewayConfig } from '../conformance/gateway-parity.ts';
import { WATCHED_RESOURCE_URI } from '../conformance/fixture/resources.ts';
import { runConformance } from '../conformance/run-conformance.ts';
import { LEGACY_SERVER_SCENARIOS } from '../conformance/scenarios.ts';
import { waitFor } from '../gateway-calls/helpers.ts';
import { connectSdkClient, startGateway, type RunningGateway } from '../harness/index.ts';
import { startDualEraFixture, type DualEraFixture } from './dual-era-fixture.ts';

const RUN_TIMEOUT_MS = 120_000;
const OUT_DIR = join(
  fileURLToPath(new URL('../../.conformance/', import.meta.url)),
  `${new Date().toISOString().replace(/[:.]/g, '-')}-dual-era`,
);
const SAMPLED = 'sampled by the legacy client';
const ELICITED = { username: 'legacy-user', email: 'legacy-user@example.com' };

let fixture: DualEraFixture;
let gateway: RunningGateway;

beforeAll(async () => {
  fixture = await startDualEraFixture();
  gateway = await startGateway({ config: toUnprefixedGatewayConfig(fixture.url) });
  await waitFor('the upstream ready', async () => {
    const status = (await (await fetch(`${gateway.baseUrl}/status`)).json()) as { servers: { ready: boolean }[] };
    return status.servers[0]?.ready === true ? true : undefined;
  });
});
afterAll(async () => {
  await gateway?.stop();
  await fixture?.stop();
});

describe('the 2025-11-25 conformance scenarios against an upstream of both eras', () => {
  it(
    'pass through the gateway as they pass directly',
    async () => {
      // One run after the other: each CLI run drives the machine's two cores.
      const direct = await runConformance({
        url: fixture.url,
        cli: 'next',
        requirements: '2025-11-25',
        outDir: join(OUT_DIR, 'direct'),
        timeoutMs: RUN_TIMEOUT_MS,
      });
      const viaGateway = await runConformance({
        url: gateway.url,
        cli: 'next',
        requirements: '2025-11-25',
        outDir: join(OUT_DIR, 'gateway'),
        timeoutMs: RUN_TIMEOUT_MS,
      });
      console.log(
        `dual-era upstream directly: ${summarizeReport(direct)}; through gateway: ${summarizeReport(viaGateway)}`,
      );

      const ran = direct.scenarios.map((scenario) => scenario.name);
      expect(ran).toEqual(expect.arrayContaining([...LEGACY_SERVER_SCENARIOS, 'server-session-lifecycle']));
      expect(direct.scenarios.filter((scenario) => !scenario.ok).map((scenario) => scenario.name)).toEqual([]);
      expect(compareThroughGateway(direct, viaGateway, []).regressions).toEqual([]);
    },
    2 * RUN_TIMEOUT_MS + 10_000,
  );
});

const TARGETS = [
  { target: 'directly', url: () => fixture.url },
  { target: 'through the gateway', url: () => gateway.url },
] as const;

/** A 2025-11-25 SDK 1.x client that answers sampling and elicitation. */
async function connectLegacyClient(url: string) {
  const connected = await connectSdkClient(url, {
    version: 1,
    capabilities: { sampling: {}, elicitation: { form: {} } },
  });
  connected.client.setRequestHandler(CreateMessageRequestSchema, () => ({
    role: 'assistant',
    model: 'legacy-client-model',
    content: { type: 'text', text: SAMPLED },
  }));
  connected.client.setRequestHandler(ElicitRequestSchema, () => ({ action: 'accept', content: ELICITED }));
  return connected;
}

/** The first text of a tool result. */
async function callText(client: Client, name: string, args: Record<string, unknown>): Promise<unknown> {
  const result = await client.callTool({ name, arguments: args }, undefined, { timeout: 10_000 });
  return result.content;
}

for (const { target, url } of TARGETS) {
  describe(`a 2025-11-25 client of an upstream of both eras, ${target}`, () => {
    it('answers the sampling request the upstream sends during a call', async () => {
      const connected = await connectLegacyClient(url());
      try {
        expect(await callText(connected.client, 'test_sampling', { prompt: 'Say something' })).toEqual([
          { type: 'text', text: `LLM response: ${SAMPLED}` },
        ]);
      } finally {
        await connected.close();
      }
    });

    it('answers the elicitation the upstream sends during a call', async () => {
      const connected = await connectLegacyClient(url());
      try {
        expect(await callText(connected.client, 'test_elicitation', { message: 'Who are you?' })).toEqual([
          { type: 'text', text: `User response: action=accept, content=${JSON.stringify(ELICITED)}` },
        ]);
      } finally {
        await connected.close();
      }
    });

    it('subscribes to a resource, hears of its update, and unsubscribes', async () => {
      const connected = await connectLegacyClient(url());
      try {
        const updates: string[] = [];
        connected.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => {
          updates.push(notification.params.uri);
        });
        await connected.client.subscribeResource({ uri: WATCHED_RESOURCE_URI });
        // The update travels on the session's GET stream, which may open a moment after the
        // subscription: announce it until it is heard.
        await waitFor('notifications/resources/updated', () => {
          if (updates.length > 0) return updates;
          fixture.touchResource(WATCHED_RESOURCE_URI);
          return undefined;
        });
        expect(updates[0]).toBe(WATCHED_RESOURCE_URI);
        await expect(connected.client.unsubscribeResource({ uri: WATCHED_RESOURCE_URI })).resolves.toEqual({});
      } finally {
        await connected.close();
      }
    });
  });
}
