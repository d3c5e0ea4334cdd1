import { McpServer, type RequestStateCodec, type ServerNotifier } from '@modelcontextprotocol/server';
import { registerContentTools } from './content-tools.ts';
import { registerInputRequiredTools, type FixtureRequestState } from './input-required-tools.ts';
import { registerPrompts, registerResources } from './resources-and-prompts.ts';
import { registerStatelessTools } from './stateless-tools.ts';

/** What every per-request server instance shares. */
export interface ModernFixtureServerOptions {
  /** Seals and verifies `requestState`; one key per fixture, since each request gets a fresh server. */
  readonly requestStateCodec: RequestStateCodec<FixtureRequestState>;
  /** The handler's publish side, for the list_changed trigger tools. */
  readonly notifier: () => ServerNotifier;
}

/**
 * Builds one SDK 2.x `McpServer` holding every tool, resource and prompt the 2026-07-28
 * server scenarios of @modelcontextprotocol/conformance 0.2.0 exercise. `createMcpHandler`
 * calls this once per HTTP request, for either era.
 */
export function createModernFixtureServer(options: ModernFixtureServerOptions): McpServer {
  const server = new McpServer(
    { name: 'mcp-gateway-conformance-fixture-modern', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { listChanged: true },
        prompts: { listChanged: true },
        completions: {},
      },
      // Rejects a retry whose requestState fails verification with -32602 before any handler runs.
      requestState: { verify: options.requestStateCodec.verify },
    },
  );
  registerContentTools(server);
  registerStatelessTools(server, options.notifier);
  registerInputRequiredTools(server, options.requestStateCodec);
  registerResources(server);
  registerPrompts(server);
  return server;
}
