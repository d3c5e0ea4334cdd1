import {
  inputRequired,
  inputResponse,
  type CallToolResult,
  type InputRequiredResult,
  type McpServer,
  type ServerNotifier,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

const NO_ARGUMENTS = z.object({});

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

/**
 * Registers the diagnostic tools the `server-stateless` scenario calls by name (SEP-2575):
 * a tool needing the `sampling` client capability (the SDK answers -32021 when the request
 * declares none), a plain call whose stream must carry no server-to-client request, a tool
 * that logs only when the request set `_meta` logLevel, and two triggers that publish
 * list_changed to open `subscriptions/listen` streams through `notifier`.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/lifecycle
 */
export function registerStatelessTools(server: McpServer, notifier: () => ServerNotifier): void {
  server.registerTool(
    'test_missing_capability',
    { description: 'Asks for a sampling round trip, so it needs the sampling capability', inputSchema: NO_ARGUMENTS },
    async (_args, ctx): Promise<CallToolResult | InputRequiredResult> => {
      if (inputResponse(ctx.mcpReq.inputResponses, 'llm_answer').kind === 'sampling') {
        return text('sampling round trip complete');
      }
      return inputRequired({
        inputRequests: {
          llm_answer: inputRequired.createMessage({
            messages: [{ role: 'user', content: { type: 'text', text: 'Reply with the single word: pong' } }],
            maxTokens: 16,
          }),
        },
      });
    },
  );
  server.registerTool(
    'test_streaming_elicitation',
    { description: 'Answers with result frames only, never a server-to-client request', inputSchema: NO_ARGUMENTS },
    async () => text('result frames only'),
  );
  server.registerTool(
    'test_logging_tool',
    {
      description: 'Logs through the request, which delivers only when _meta sets a logLevel',
      inputSchema: NO_ARGUMENTS,
    },
    async (_args, ctx) => {
      await ctx.mcpReq.log('info', 'test_logging_tool ran');
      return text('logged through the request-scoped channel');
    },
  );
  server.registerTool(
    'test_trigger_tool_change',
    { description: 'Publishes notifications/tools/list_changed to open listen streams', inputSchema: NO_ARGUMENTS },
    async () => {
      notifier().toolsChanged();
      return text('tools list_changed published');
    },
  );
  server.registerTool(
    'test_trigger_prompt_change',
    { description: 'Publishes notifications/prompts/list_changed to open listen streams', inputSchema: NO_ARGUMENTS },
    async () => {
      notifier().promptsChanged();
      return text('prompts list_changed published');
    },
  );
}
