import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
  type ClientCapabilities as ClientCapabilitiesV2,
  type VersionNegotiationMode,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities as ClientCapabilitiesV1 } from '@modelcontextprotocol/sdk/types.js';

interface CommonClientOptions {
  /** Sent on every HTTP request (e.g. authorization). */
  headers?: Record<string, string>;
  /** clientInfo.name. Default 'harness-client-v1' / 'harness-client-v2'. */
  name?: string;
}

export interface SdkClientV1Options extends CommonClientOptions {
  version: 1;
  capabilities?: ClientCapabilitiesV1;
}

export interface SdkClientV2Options extends CommonClientOptions {
  version: 2;
  capabilities?: ClientCapabilitiesV2;
  /**
   * The 2.x client's protocol era negotiation. Default 'legacy': the 2025 initialize
   * handshake over Streamable HTTP with sessions, exactly what 1.x clients do.
   */
  negotiation?: VersionNegotiationMode;
}

export interface ConnectedSdkClient<C> {
  readonly client: C;
  /** The mcp-session-id the server assigned, if any. */
  sessionId(): string | undefined;
  /**
   * Ends the session with DELETE (as the spec asks of clients; errors ignored) unless
   * `terminate` is false, then closes the client. Safe to call twice.
   */
  close(options?: { terminate?: boolean }): Promise<void>;
}

/** A connected official MCP SDK client (1.x or 2.x) speaking Streamable HTTP to `url`. */
export function connectSdkClient(url: string | URL, options: SdkClientV1Options): Promise<ConnectedSdkClient<ClientV1>>;
export function connectSdkClient(url: string | URL, options: SdkClientV2Options): Promise<ConnectedSdkClient<ClientV2>>;
export async function connectSdkClient(
  url: string | URL,
  options: SdkClientV1Options | SdkClientV2Options,
): Promise<ConnectedSdkClient<ClientV1> | ConnectedSdkClient<ClientV2>> {
  const endpoint = new URL(url);
  const transportOptions = options.headers ? { requestInit: { headers: options.headers } } : {};

  if (options.version === 1) {
    const client = new ClientV1(
      { name: options.name ?? 'harness-client-v1', version: '1.0.0' },
      { capabilities: options.capabilities ?? {} },
    );
    const transport = new TransportV1(endpoint, transportOptions);
    await client.connect(transport);
    return wrap(client, transport);
  }

  const client = new ClientV2(
    { name: options.name ?? 'harness-client-v2', version: '2.0.0' },
    {
      capabilities: options.capabilities ?? {},
      versionNegotiation: { mode: options.negotiation ?? 'legacy' },
    },
  );
  const transport = new TransportV2(endpoint, transportOptions);
  await client.connect(transport);
  return wrap(client, transport);
}

interface ClosableClient {
  close(): Promise<void>;
}

interface SessionTransport {
  readonly sessionId: string | undefined;
  terminateSession(): Promise<void>;
}

function wrap<C extends ClosableClient>(client: C, transport: SessionTransport): ConnectedSdkClient<C> {
  let closed = false;
  return {
    client,
    sessionId: () => transport.sessionId,
    async close({ terminate = true } = {}) {
      if (closed) return;
      closed = true;
      if (terminate && transport.sessionId !== undefined) {
        await transport.terminateSession().catch(() => undefined);
      }
      await client.close();
    },
  };
}
