// Tools the protocol-era suites register on their upstreams: the same small set on a
// 2026-07-28 upstream (SDK 2.x) and on a legacy upstream (SDK 1.x), so that a suite can tell
// which upstream answered and what crossed between eras.
import type { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ElicitResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { McpServer as McpServerV2 } from '@modelcontextprotocol/server';
import { z } from 'zod';

/** `shout` on a 2026-07-28 upstream: upper-cases its text. */
export function registerShout(server: McpServerV2): void {
  server.registerTool(
    'shout',
    { description: 'Upper-cases text', inputSchema: z.object({ text: z.string() }) },
    ({ text }) => ({ content: [{ type: 'text', text: text.toUpperCase() }] }),
  );
}

/**
 * On a legacy upstream: `whisper` lower-cases its text; `ask` elicits a name on the call's own
 * stream (a request-related send, as tool handlers make) and greets it.
 */
export function registerWhisperAndAsk(server: McpServerV1): void {
  server.registerTool(
    'whisper',
    { description: 'Lower-cases text', inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: 'text', text: text.toLowerCase() }] }),
  );
  server.registerTool('ask', { description: 'Elicits a name', inputSchema: {} }, async (_args, extra) => {
    const answer = await extra.sendRequest(
      {
        method: 'elicitation/create',
        params: {
          message: 'Your name?',
          requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        },
      },
      ElicitResultSchema,
    );
    return { content: [{ type: 'text', text: `hello ${String(answer.content?.['name'])} (${answer.action})` }] };
  });
}
