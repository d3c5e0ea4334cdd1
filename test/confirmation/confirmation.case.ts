// The table of confirmation cases every host runs (broker, Envoy with the router, the worker in
// workerd): a real SDK upstream whose tools record each call, real SDK clients of both
// generations answering the gateway's elicitation (accept, decline, cancel, never, no capability),
// a 2026-07-28 input_required round, forged and mismatched requestStates sent by hand, a CEL
// confirm rule over the arguments and an override's `confirm: true`; each case checks what the
// client got, whether the upstream ran the call, and the audit record.
import { expect } from 'vitest';
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitRequestSchema, McpError, type ElicitRequest } from '@modelcontextprotocol/sdk/types.js';
import { connectSdkClient, type SdkUpstream } from '../harness/index.ts';

/** One host in front of the upstream: where clients connect and what it recorded. */
export interface ConfirmationHost {
  /** The MCP endpoint (`http://…/mcp`). */
  readonly url: string;
  /** The upstream serving the tools under `prefix`. */
  readonly upstream: SdkUpstream;
  readonly prefix: string;
  /** Everything the host wrote (its log, where its audit records go). */
  output(): string;
}

/** The upstream's tools: a destructive one, one the override confirms, one a rule confirms on /prod paths. */
export function confirmationTools(server: McpServer): void {
  const path = { path: z.string() };
  server.registerTool(
    'delete_file',
    { description: 'Deletes a file', inputSchema: path, annotations: { destructiveHint: true } },
    ({ path: target }) => ({ content: [{ type: 'text', text: `deleted ${target}` }] }),
  );
  server.registerTool('deploy', { description: 'Deploys', inputSchema: path }, ({ path: target }) => ({
    content: [{ type: 'text', text: `deployed ${target}` }],
  }));
  server.registerTool('write_file', { description: 'Writes a file', inputSchema: path }, ({ path: target }) => ({
    content: [{ type: 'text', text: `wrote ${target}` }],
  }));
  server.registerTool('purge_cache', { description: 'Purges a cache', inputSchema: path }, ({ path: target }) => ({
    content: [{ type: 'text', text: `purged ${target}` }],
  }));
}

/**
 * The server entry's fields (indented as the entry's): destructive tools confirmed (purge_cache
 * made destructive by its override's annotations), deploy confirmed by its override.
 */
export const SERVER_YAML = `    confirmDestructive: true
    toolOverrides:
      - tool: deploy
        confirm: true
      - tool: purge_cache
        annotations: { destructiveHint: true }
`;

/** The top-level sections: a short timeout, a confirm rule over the arguments, audit on stdout. */
export const TOP_YAML = `confirmation:
  timeoutSeconds: 5
policy:
  rules:
    - name: confirm-prod-writes
      effect: confirm
      tools: [write_file]
      when: mcp.arguments.path.startsWith("/prod")
audit:
  destination: stdout
`;

/** How many times the upstream ran `tool` with `path`. */
export function runsOf(upstream: SdkUpstream, tool: string, path: string): number {
  return upstream.requests.filter((request) => {
    const params = request.params as { name?: string; arguments?: { path?: string } } | undefined;
    return request.method === 'tools/call' && params?.name === tool && params.arguments?.path === path;
  }).length;
}

/** The audit record of the call of `servedName` with `path` as argument (values are recorded by hash: matched by order). */
export function auditOf(host: ConfirmationHost, servedName: string): Record<string, unknown>[] {
  return host
    .output()
    .split('\n')
    .flatMap((line) => {
      const start = line.indexOf('{"event":"audit"');
      if (start === -1) return [];
      try {
        return [JSON.parse(line.slice(start)) as Record<string, unknown>];
      } catch {
        return [];
      }
    })
    .filter((record) => record['servedName'] === servedName);
}

type ElicitAnswer = { action: 'accept'; content: { confirm: boolean } } | { action: 'decline' | 'cancel' };

/** Calls `tool` with `path` from a 1.x client (legacy session) answering elicitation with `answer` (undefined: no capability). */
export async function legacyCall(
  host: ConfirmationHost,
  tool: string,
  path: string,
  answer: ElicitAnswer | 'never' | undefined,
): Promise<{ result?: unknown; error?: McpError; asked: ElicitRequest['params'][] }> {
  const connected = await connectSdkClient(host.url, {
    version: 1,
    ...(answer === undefined ? {} : { capabilities: { elicitation: {} } }),
  });
  const asked: ElicitRequest['params'][] = [];
  if (answer !== undefined) {
    connected.client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params);
      return answer === 'never' ? new Promise<never>(() => {}) : answer;
    });
  }
  try {
    const result = await connected.client.callTool({ name: `${host.prefix}${tool}`, arguments: { path } });
    return { result, asked };
  } catch (error) {
    if (error instanceof McpError) return { error, asked };
    throw error;
  } finally {
    await connected.close();
  }
}

/** Calls `tool` with `path` from a 2.x client speaking 2026-07-28, answering the input_required round with `answer`. */
export async function modernCall(
  host: ConfirmationHost,
  tool: string,
  path: string,
  answer: ElicitAnswer | ((params: { message?: string }) => unknown) | undefined,
): Promise<{ result?: unknown; error?: { code: number; message: string }; asked: unknown[] }> {
  const connected = await connectSdkClient(host.url, {
    version: 2,
    negotiation: 'auto',
    ...(answer === undefined ? {} : { capabilities: { elicitation: { form: {} } } }),
  });
  const asked: unknown[] = [];
  if (answer !== undefined) {
    connected.client.setRequestHandler('elicitation/create', (request) => {
      asked.push(request.params);
      return (typeof answer === 'function' ? answer(request.params) : answer) as ElicitAnswer;
    });
  }
  try {
    const result = await connected.client.callTool({ name: `${host.prefix}${tool}`, arguments: { path } });
    return { result, asked };
  } catch (error) {
    const { code, message } = error as { code: number; message: string };
    return { error: { code, message }, asked };
  } finally {
    await connected.close();
  }
}

const MODERN = '2026-07-28';

/** A 2026-07-28 tools/call sent by hand (fetch), as a client might forge its retry. */
export async function modernPost(
  host: ConfirmationHost,
  tool: string,
  params: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(host.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': `${host.prefix}${tool}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: {
        name: `${host.prefix}${tool}`,
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': { elicitation: { form: {} } },
          'io.modelcontextprotocol/clientInfo': { name: 'by-hand', version: '1.0.0' },
        },
      },
    }),
  });
  expect(response.status).toBe(200);
  const text = await response.text();
  const data = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? '{}');
  return JSON.parse(data) as Record<string, unknown>;
}
