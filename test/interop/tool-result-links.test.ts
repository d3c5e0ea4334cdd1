// Issue 11, item 10: URIs in a tool result point at resources of the upstream that made it. The
// gateway serves those resources under prefixed URIs, so the links in the result must be served
// URIs too, or the client cannot follow them: a `resource_link`, an embedded `resource`, and the
// MCP Apps `_meta.ui.resourceUri`, for clients of both eras and upstreams of both eras.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configYaml, waitFor } from '../gateway-calls/helpers.ts';
import {
  connectSdkClient,
  GO_BUILD_TIMEOUT_MS,
  startGateway,
  startGoUpstream,
  startPythonUpstream,
  type GoUpstream,
  type PythonUpstream,
  type RunningGateway,
} from '../harness/index.ts';

/** The upstreams behind the gateway, each with the content its resources hold. */
const UPSTREAMS = [
  { server: 'python', prefix: 'py_', era: 'legacy', sdk: 'Python SDK' },
  { server: 'go', prefix: 'go_', era: 'legacy', sdk: 'Go SDK' },
  { server: 'go-stateless', prefix: 'gs_', era: '2026-07-28', sdk: 'Go SDK' },
] as const;

/** The two resources every upstream serves, under its own URIs. */
function expectedTexts(sdk: string): { note: string; widget: string } {
  return { note: `readme served by the ${sdk} upstream`, widget: `<p>widget served by the ${sdk} upstream</p>` };
}

/** What a client of either SDK major offers for these tests. */
interface LinkClient {
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  readResource(params: { uri: string }): Promise<{ contents: readonly { uri: string; text?: unknown }[] }>;
  listResources(): Promise<{ resources: readonly { uri: string }[] }>;
}

interface ResultLinks {
  link: string | undefined;
  embedded: string | undefined;
  ui: string | undefined;
}

/** The three URIs of a `links` result. */
function linksOf(result: unknown): ResultLinks {
  const { content, _meta } = result as {
    content?: { type: string; uri?: string; resource?: { uri?: string } }[];
    _meta?: { ui?: { resourceUri?: string } };
  };
  return {
    link: content?.find((item) => item.type === 'resource_link')?.uri,
    embedded: content?.find((item) => item.type === 'resource')?.resource?.uri,
    ui: _meta?.ui?.resourceUri,
  };
}

/** Reads `uri` through the gateway; the text of its first content, or the error as text. */
async function readText(client: LinkClient, uri: string | undefined): Promise<string> {
  if (uri === undefined) return 'no uri in the result';
  try {
    const { contents } = await client.readResource({ uri });
    return String(contents[0]?.text);
  } catch (error) {
    return `resources/read ${uri} failed: ${String(error)}`;
  }
}

let python: PythonUpstream;
let go: GoUpstream;
let goStateless: GoUpstream;
let gateway: RunningGateway;

beforeAll(async () => {
  [python, go, goStateless] = await Promise.all([
    startPythonUpstream({ script: 'links_server.py' }),
    startGoUpstream(),
    startGoUpstream({ stateless: true }),
  ]);
  gateway = await startGateway({
    config: configYaml([
      { name: 'python', url: python.url, prefix: 'py_' },
      { name: 'go', url: go.url, prefix: 'go_' },
      { name: 'go-stateless', url: goStateless.url, prefix: 'gs_' },
    ]),
  });
  await waitFor('every upstream ready', async () => {
    const status = (await (await fetch(`${gateway.baseUrl}/status`)).json()) as { servers: { ready: boolean }[] };
    return status.servers.length === UPSTREAMS.length && status.servers.every((s) => s.ready) ? true : undefined;
  });
}, GO_BUILD_TIMEOUT_MS);

afterAll(async () => {
  await gateway?.stop();
  await Promise.allSettled([python?.stop(), go?.stop(), goStateless?.stop()]);
});

const CLIENTS = [
  {
    era: 'a 2025-11-25 client (SDK 1.x)',
    connect: () => connectSdkClient(gateway.url, { version: 1 }),
  },
  {
    era: 'a 2026-07-28 client (SDK 2.x)',
    connect: () => connectSdkClient(gateway.url, { version: 2, negotiation: 'auto' }),
  },
] as const;

for (const { era, connect } of CLIENTS) {
  describe(`links in tool results, for ${era}`, () => {
    let client: LinkClient;
    let close: () => Promise<void>;

    beforeAll(async () => {
      const connected = await connect();
      client = connected.client as unknown as LinkClient;
      close = () => connected.close();
    });
    afterAll(async () => {
      await close?.();
    });

    for (const upstream of UPSTREAMS) {
      const expected = expectedTexts(upstream.sdk);

      it(`reads back the resource_link and embedded resource of a ${upstream.sdk} upstream (${upstream.era})`, async () => {
        const links = linksOf(await client.callTool({ name: `${upstream.prefix}links`, arguments: {} }));
        const listed = (await client.listResources()).resources.map((resource) => resource.uri);

        expect(await readText(client, links.link)).toBe(expected.note);
        expect(listed, 'the link names a resource the gateway lists').toContain(links.link);
        expect(links.embedded, 'the embedded resource is the linked one').toBe(links.link);
      });

      it(`reads back the _meta.ui.resourceUri of a ${upstream.sdk} upstream (${upstream.era})`, async () => {
        const links = linksOf(await client.callTool({ name: `${upstream.prefix}links`, arguments: {} }));
        expect(links.ui).toMatch(/^ui:\/\//);
        expect(await readText(client, links.ui)).toBe(expected.widget);
      });
    }
  });
}
