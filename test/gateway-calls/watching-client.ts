// An SDK client that keeps its GET notification stream open and, like a real client, re-lists
// tools whenever it is told tools/list_changed, so tests can wait for "notified, and the list
// fetched after the notice shows the change".
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { createGate, waitFor, within } from './helpers.ts';

export interface WatchingClient {
  /** Served tool names listed now. */
  toolNames(): Promise<string[]>;
  /** Calls a tool and resolves with the result's content. */
  callTool(name: string, args: Record<string, unknown>): Promise<unknown>;
  /** How many tools/list_changed notifications arrived so far. */
  notifications(): number;
  /**
   * Resolves with the first tool list fetched in answer to a tools/list_changed notification
   * numbered above `since` that satisfies `predicate`; rejects after the wait deadline.
   */
  waitForNotifiedList(what: string, since: number, predicate: (names: readonly string[]) => boolean): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Connects a 1.x or 2.x SDK client to `url` and resolves once its GET stream is open (observed
 * through the transport's fetch), so no notification sent afterwards can be missed.
 */
export async function connectWatchingClient(url: string, version: 1 | 2): Promise<WatchingClient> {
  const streamOpen = createGate();
  const observingFetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const response = await fetch(input, init);
    const isStream = (response.headers.get('content-type') ?? '').includes('text/event-stream');
    if ((init?.method ?? 'GET') === 'GET' && response.ok && isStream) streamOpen.open();
    return response;
  };
  const relists: { index: number; names: string[] }[] = [];
  let count = 0;
  let listTools: () => Promise<{ tools: { name: string }[] }>;
  let callTool: (name: string, args: Record<string, unknown>) => Promise<Record<string, unknown>>;
  let closeClient: () => Promise<void>;
  let terminate: () => Promise<void>;

  const onListChanged = () => {
    const index = ++count;
    listTools()
      .then(({ tools }) => relists.push({ index, names: tools.map((tool) => tool.name) }))
      .catch(() => {});
  };

  if (version === 1) {
    const client = new ClientV1({ name: 'watching-client-v1', version: '1.0.0' });
    const transport = new TransportV1(new URL(url), { fetch: observingFetch });
    client.setNotificationHandler(ToolListChangedNotificationSchema, onListChanged);
    await client.connect(transport);
    listTools = () => client.listTools();
    callTool = (name, args) => client.callTool({ name, arguments: args });
    closeClient = () => client.close();
    terminate = () => transport.terminateSession();
  } else {
    const client = new ClientV2(
      { name: 'watching-client-v2', version: '2.0.0' },
      { versionNegotiation: { mode: 'legacy' } },
    );
    const transport = new TransportV2(new URL(url), { fetch: observingFetch });
    client.setNotificationHandler('notifications/tools/list_changed', onListChanged);
    await client.connect(transport);
    listTools = () => client.listTools();
    callTool = (name, args) => client.callTool({ name, arguments: args });
    closeClient = () => client.close();
    terminate = () => transport.terminateSession();
  }
  try {
    await within(streamOpen.promise, 'the GET notification stream to open');
  } catch (error) {
    await terminate().catch(() => {});
    await closeClient();
    throw error;
  }

  return {
    toolNames: async () => (await listTools()).tools.map((tool) => tool.name),
    callTool: async (name, args) => (await callTool(name, args))['content'],
    notifications: () => count,
    waitForNotifiedList: (what, since, predicate) =>
      waitFor(
        `a tools/list_changed notice after which ${what}`,
        () => relists.find((relist) => relist.index > since && predicate(relist.names))?.names,
      ),
    async close() {
      await terminate().catch(() => {});
      await closeClient();
    },
  };
}
