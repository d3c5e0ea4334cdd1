// Shared helpers of the gateway-calls suites: config text, polling, the status report, and
// small queries over what an SDK upstream recorded.
import type { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import {
  connectSdkClient,
  startGateway,
  type ConnectedSdkClient,
  type RecordedRequest,
  type RunningGateway,
} from '../harness/index.ts';

/** One `servers[]` entry of the gateway config. */
export interface ServerEntry {
  name: string;
  url: string;
  prefix: string;
  credential?: string;
}

/** The gateway config YAML for `servers` (strings JSON-quoted, which YAML reads as double-quoted scalars). */
export function configYaml(servers: readonly ServerEntry[]): string {
  if (servers.length === 0) return 'servers: []\n';
  const lines = ['servers:'];
  for (const server of servers) {
    lines.push(`  - name: ${JSON.stringify(server.name)}`);
    lines.push(`    url: ${JSON.stringify(server.url)}`);
    lines.push(`    prefix: ${JSON.stringify(server.prefix)}`);
    if (server.credential !== undefined) lines.push(`    credential: ${JSON.stringify(server.credential)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Starts the built gateway in front of `servers`, with extra CLI flags. */
export function startGatewayFor(
  servers: readonly ServerEntry[],
  args: readonly string[] = [],
): Promise<RunningGateway> {
  return startGateway({ config: configYaml(servers), args });
}

/** Default deadline of `waitFor`: well inside vitest's 30 s test timeout. */
export const WAIT_TIMEOUT_MS = 15_000;
const POLL_INTERVAL_MS = 50;

/**
 * Polls `probe` until it returns something other than undefined and resolves with that value;
 * rejects with `what` when `timeoutMs` passes first. Errors thrown by `probe` count as "not yet".
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = WAIT_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const detail = lastError === undefined ? '' : ` (last error: ${String(lastError)})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Resolves like `promise`, or rejects naming `what` when `timeoutMs` passes first. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** What listing needs of a client; 1.x and 2.x SDK clients both fit. */
export interface ToolLister {
  listTools(): Promise<{ tools: readonly { name: string }[] }>;
}

/** Served tool names, in the order the gateway lists them. */
export async function toolNames(client: ToolLister): Promise<string[]> {
  return (await client.listTools()).tools.map((tool) => tool.name);
}

/** Waits until the gateway lists every name in `names` (upstreams are listed in the background). */
export function waitForTools(client: ToolLister, names: readonly string[]): Promise<string[]> {
  return waitFor(`tools ${names.join(', ')}`, async () => {
    const listed = await toolNames(client);
    return names.every((name) => listed.includes(name)) ? listed : undefined;
  });
}

/** A 1.x client connected to the gateway once it lists `names`. */
export async function connectWhenListed(
  gateway: RunningGateway,
  names: readonly string[],
  headers?: Record<string, string>,
): Promise<ConnectedSdkClient<ClientV1>> {
  const connected = await connectSdkClient(gateway.url, { version: 1, ...(headers ? { headers } : {}) });
  try {
    await waitForTools(connected.client, names);
  } catch (error) {
    await connected.close();
    throw error;
  }
  return connected;
}

/** The parts of GET /status the suites read. */
export interface StatusBody {
  toolConflicts: number;
  servers: {
    name: string;
    ready: boolean;
    totalTools: number;
    conflicts?: { tools: string[] };
    invalidTools: number;
    invalidToolList?: { name: string; errors: string[] }[];
    message: string;
  }[];
}

export async function fetchStatus(gateway: RunningGateway): Promise<StatusBody> {
  const response = await fetch(`${gateway.baseUrl}/status`);
  if (!response.ok) throw new Error(`GET /status answered ${response.status}`);
  return (await response.json()) as StatusBody;
}

/** Requests of one method the upstream received. */
export function requestsOf(requests: readonly RecordedRequest[], method: string): RecordedRequest[] {
  return requests.filter((request) => request.method === method);
}

/** The distinct upstream session ids that carried `method`. */
export function sessionsCarrying(requests: readonly RecordedRequest[], method: string): string[] {
  return [...new Set(requestsOf(requests, method).map((request) => request.sessionId ?? '<none>'))];
}

/** A promise with its resolve function, for letting a test decide when an upstream may go on. */
export interface Gate<T = void> {
  readonly promise: Promise<T>;
  open(value: T): void;
}

export function createGate<T = void>(): Gate<T> {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
