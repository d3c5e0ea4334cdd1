import { afterEach, describe, expect, it } from 'vitest';
import { startSdkUpstream, type SdkUpstream } from '../../../../test/harness/sdk-upstream.ts';
import type { ServerConfig } from '../config/schema.ts';
import { NOOP_LOGGER } from '../logger.ts';
import { createUpstreamClient } from './upstream-client.ts';
import type { UpstreamListKind } from './upstream-list.ts';
import { watchUpstreamNotifications } from './notification-watcher.ts';

const stops: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
});

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function serverConfig(url: string): ServerConfig {
  return {
    name: 'weather',
    url,
    hostname: '127.0.0.1',
    prefix: '',
    enabled: true,
    userSpecificList: false,
    category: [],
    tags: [],
  };
}

async function toolsUpstream(): Promise<SdkUpstream> {
  const sdk = await startSdkUpstream({
    setup(server) {
      server.registerTool('forecast', { inputSchema: {} }, () => ({ content: [] }));
      server.registerPrompt('brief', {}, () => ({ messages: [] }));
    },
  });
  stops.push(() => sdk.stop());
  return sdk;
}

describe('watchUpstreamNotifications', () => {
  it('reopens a stream that ended and reports list_changed notifications by list', async () => {
    const sdk = await toolsUpstream();
    let gets = 0;
    // The first GET stream is cut right after its headers, as an idle-timeout proxy would.
    const cuttingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method !== 'GET') return response;
      gets += 1;
      if (gets > 1) return response;
      await response.body?.cancel();
      return new Response('', { status: response.status, headers: response.headers });
    };
    const client = createUpstreamClient({ server: serverConfig(sdk.url), logger: NOOP_LOGGER, fetch: cuttingFetch });
    const session = await client.initialize();
    const reported: UpstreamListKind[][] = [];
    const abort = new AbortController();

    const done = watchUpstreamNotifications({
      client,
      session,
      signal: abort.signal,
      onListChanged: (kinds) => reported.push([...kinds]),
      logger: NOOP_LOGGER,
      initialDelayMs: 20,
    });
    // `gets` counts responses whose headers arrived: the upstream has registered the stream by then.
    await waitFor(() => gets === 2);
    const [live] = sdk.servers();
    live!.sendPromptListChanged();
    await waitFor(() => reported.length > 0);
    live!.registerTool('alerts', { inputSchema: {} }, () => ({ content: [] }));
    await waitFor(() => reported.some((kinds) => kinds[0] === 'tools'));
    abort.abort();
    await done;

    expect(reported).toEqual([['prompts'], ['tools']]);
  });

  it('ends the watch when the upstream no longer offers a stream for the session', async () => {
    const sdk = await toolsUpstream();
    const client = createUpstreamClient({ server: serverConfig(sdk.url), logger: NOOP_LOGGER });
    const session = await client.initialize();
    await sdk.expireSession(session.sessionId!);

    await expect(
      watchUpstreamNotifications({
        client,
        session,
        signal: new AbortController().signal,
        onListChanged: () => {},
        logger: NOOP_LOGGER,
      }),
    ).resolves.toBeUndefined();
  });
});
