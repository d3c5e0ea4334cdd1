// The two real SDK upstreams every access case runs against: `weather`, a legacy server (SDK 1.x,
// sessions) and `notes`, a 2026-07-28 server (SDK 2.x, sessionless). Each has tools, prompts and
// resources, so that a case decides on every kind, and the router routes some calls itself (a
// client of the upstream's era) and sends the others to the broker (the other era).
import { completable as completableV1 } from '@modelcontextprotocol/sdk/server/completable.js';
import type { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable as completableV2, type McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { startModernUpstream, startSdkUpstream, type ModernUpstream, type SdkUpstream } from '../harness/index.ts';

/** One upstream as a config names it, and as Envoy reaches it. */
export interface AccessServer {
  /** The config name (the key of `x-mcp-authorized` capabilities, `mcp.server` in rules). */
  readonly name: string;
  readonly prefix: string;
  /** Envoy's virtual host for it. */
  readonly hostname: string;
  /** The era the upstream speaks: the router routes only calls of that era itself. */
  readonly era: 'legacy' | 'modern';
}

export const WEATHER: AccessServer = { name: 'weather', prefix: 'w_', hostname: 'weather.mcp.local', era: 'legacy' };
export const NOTES: AccessServer = { name: 'notes', prefix: 'n_', hostname: 'notes.mcp.local', era: 'modern' };
export const SERVERS = [WEATHER, NOTES] as const;

/** Every served name, as an unfiltered list shows them (sorted). */
export const ALL = {
  tools: ['n_admin_purge', 'n_search', 'w_admin_reset', 'w_delete_city', 'w_forecast'],
  prompts: ['n_summary', 'w_brief', 'w_secret_plan'],
  resources: ['notes://n_index', 'notes://n_private/diary', 'weather://w_internal/stations', 'weather://w_today'],
} as const;

/** `ref` on every tool and prompt: a value unique to each call, so that its audit record is found by its hash. */
const ref = { ref: z.string().optional() };

function text(value: string) {
  return { content: [{ type: 'text' as const, text: value }] };
}

/** The legacy upstream's items (SDK 1.x). */
export function registerWeather(server: McpServerV1): void {
  server.registerTool('forecast', { inputSchema: { city: z.string(), ...ref } }, ({ city }) =>
    text(`sunny in ${city}`),
  );
  server.registerTool('delete_city', { inputSchema: { city: z.string(), ...ref } }, ({ city }) =>
    text(`deleted ${city}`),
  );
  server.registerTool('admin_reset', { inputSchema: { ...ref } }, () => text('reset'));
  server.registerPrompt(
    'brief',
    {
      argsSchema: {
        city: completableV1(z.string(), (value) => ['Oslo', 'Osaka'].filter((c) => c.startsWith(value))),
        ...ref,
      },
    },
    ({ city }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `brief for ${city}` } }] }),
  );
  server.registerPrompt('secret_plan', { argsSchema: { ...ref } }, () => ({
    messages: [{ role: 'user', content: { type: 'text', text: 'the plan' } }],
  }));
  server.registerResource('today', 'weather://today', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, text: 'today: sunny' }],
  }));
  server.registerResource('stations', 'weather://internal/stations', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, text: 'stations: 12' }],
  }));
}

/** The 2026-07-28 upstream's items (SDK 2.x). */
export function registerNotes(server: McpServerV2): void {
  server.registerTool('search', { inputSchema: z.object({ query: z.string(), ...ref }) }, ({ query }) =>
    text(`found ${query}`),
  );
  server.registerTool('admin_purge', { inputSchema: z.object({ ...ref }) }, () => text('purged'));
  server.registerPrompt(
    'summary',
    {
      argsSchema: z.object({
        topic: completableV2(z.string(), (value) => ['travel', 'trains'].filter((t) => t.startsWith(value))),
        ...ref,
      }),
    },
    ({ topic }) => ({ messages: [{ role: 'user', content: { type: 'text', text: `summary of ${topic}` } }] }),
  );
  server.registerResource('index', 'notes://index', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, text: 'index: 3 notes' }],
  }));
  server.registerResource('diary', 'notes://private/diary', { mimeType: 'text/plain' }, (uri) => ({
    contents: [{ uri: uri.href, text: 'dear diary' }],
  }));
}

/** A JSON-RPC request an upstream received, with its HTTP headers (lower-case names). */
export interface UpstreamRequest {
  readonly method: string | undefined;
  readonly params: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

/** One host's pair of upstreams, and what each received. */
export interface AccessUpstreams {
  readonly weather: SdkUpstream;
  readonly notes: ModernUpstream;
  /** The upstream URL of a server. */
  url(server: AccessServer): string;
  /** The port Envoy's cluster for a server points at. */
  port(server: AccessServer): number;
  /** The requests of `method` naming `item` (a tool or prompt name, a URI) the server's upstream received, in order. */
  received(server: AccessServer, method: string, item: string): readonly UpstreamRequest[];
  stop(): Promise<void>;
}

/** Starts the two upstreams of one host. */
export async function startAccessUpstreams(): Promise<AccessUpstreams> {
  const weather = await startSdkUpstream({ name: WEATHER.name, setup: registerWeather });
  const notes = await startModernUpstream({ name: NOTES.name, setup: registerNotes });
  const bodies = (server: AccessServer): UpstreamRequest[] =>
    server === WEATHER
      ? weather.requests.map((r) => ({ method: r.method, params: r.params, headers: r.headers }))
      : notes.requests.map((r) => ({ method: r.body?.method, params: r.body?.params, headers: r.headers }));
  return {
    weather,
    notes,
    url: (server) => (server === WEATHER ? weather.url : notes.url),
    port: (server) => Number(new URL(server === WEATHER ? weather.url : notes.url).port),
    received: (server, method, item) =>
      bodies(server).filter((body) => body.method === method && itemOf(body.params) === item),
    async stop() {
      await weather.stop();
      await notes.stop();
    },
  };
}

/** The item a request names: `name` (tools, prompts), `uri` (resources), or its completion's `ref`. */
export function itemOf(params: unknown): string | undefined {
  if (typeof params !== 'object' || params === null) return undefined;
  const { name, uri, ref: reference } = params as Record<string, unknown>;
  if (typeof name === 'string') return name;
  if (typeof uri === 'string') return uri;
  if (typeof reference === 'object' && reference !== null) return itemOf(reference);
  return undefined;
}
