import { setTimeout as delay } from 'node:timers/promises';
import { fromJsonSchema, type CallToolResult, type JsonSchemaType, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { RED_PIXEL_PNG_BASE64, SILENT_WAV_BASE64 } from '../fixture/media.ts';

const NO_ARGUMENTS = z.object({});

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

/**
 * Registers the tools the `tools-call-*` scenarios call at the 2026-07-28 wire, plus the
 * `x-mcp-header` tool that arms `http-custom-header-server-validation` (SEP-2243) and the
 * JSON Schema 2020-12 tool. Texts are the ones the scenario descriptions give.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/server/tools
 */
export function registerContentTools(server: McpServer): void {
  server.registerTool('test_simple_text', { description: 'Returns a simple text response' }, async () =>
    text('This is a simple text response for testing.'),
  );
  server.registerTool('test_image_content', { description: 'Returns a 1x1 PNG image' }, async () => ({
    content: [{ type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' }],
  }));
  server.registerTool('test_audio_content', { description: 'Returns a short WAV clip' }, async () => ({
    content: [{ type: 'audio', data: SILENT_WAV_BASE64, mimeType: 'audio/wav' }],
  }));
  server.registerTool('test_embedded_resource', { description: 'Returns an embedded text resource' }, async () => ({
    content: [
      {
        type: 'resource',
        resource: {
          uri: 'test://embedded-resource',
          mimeType: 'text/plain',
          text: 'This is an embedded resource content.',
        },
      },
    ],
  }));
  server.registerTool(
    'test_multiple_content_types',
    { description: 'Returns text, an image and an embedded resource' },
    async () => ({
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG_BASE64, mimeType: 'image/png' },
        {
          type: 'resource',
          resource: {
            uri: 'test://mixed-content-resource',
            mimeType: 'application/json',
            text: JSON.stringify({ test: 'data', value: 123 }),
          },
        },
      ],
    }),
  );
  server.registerTool(
    'test_tool_with_logging',
    { description: 'Emits three log messages while it runs', inputSchema: NO_ARGUMENTS },
    async (_args, ctx) => {
      for (const message of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await ctx.mcpReq.notify({ method: 'notifications/message', params: { level: 'info', data: message } });
        await delay(20);
      }
      return text('Tool with logging executed successfully');
    },
  );
  server.registerTool(
    'test_tool_with_progress',
    { description: 'Reports progress 0, 50 and 100 of 100', inputSchema: NO_ARGUMENTS },
    async (_args, ctx) => {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      // Progress is only sent against a token the client supplied.
      if (progressToken !== undefined) {
        for (const progress of [0, 50, 100]) {
          await ctx.mcpReq.notify({
            method: 'notifications/progress',
            params: { progressToken, progress, total: 100, message: `Completed step ${progress} of 100` },
          });
          if (progress < 100) await delay(20);
        }
      }
      return text(String(progressToken ?? 'no-progress-token'));
    },
  );
  server.registerTool('test_error_handling', { description: 'Always fails with isError' }, async () => {
    throw new Error('This tool intentionally returns an error for testing');
  });
  server.registerTool(
    'test_x_mcp_header',
    {
      description: 'Mirrors its region argument in the Mcp-Param-Region header (SEP-2243)',
      inputSchema: fromJsonSchema<{ region?: string; level?: number }>(X_MCP_HEADER_SCHEMA),
    },
    async (args) => text(`region=${args.region ?? '<none>'}`),
  );
  server.registerTool(
    'json_schema_2020_12_tool',
    { description: 'Declares JSON Schema 2020-12 keywords (SEP-1613, SEP-2106)', inputSchema: JSON_SCHEMA_2020_12 },
    async (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`),
  );
}

/** `region` carries the SEP-2243 `x-mcp-header` extension keyword, which the SDK's JSON Schema type does not know. */
const X_MCP_HEADER_SCHEMA = {
  type: 'object',
  properties: {
    region: { type: 'string', description: 'Mirrored as Mcp-Param-Region', 'x-mcp-header': 'Region' },
    level: { type: 'integer', description: 'Not mirrored' },
  },
} as JsonSchemaType;

/** An input schema using `$schema`, `$defs`, `$anchor`, composition and conditionals, advertised verbatim. */
const JSON_SCHEMA_2020_12 = fromJsonSchema<Record<string, unknown>>({
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: {
    address: {
      $anchor: 'addressDef',
      type: 'object',
      properties: { street: { type: 'string' }, city: { type: 'string' } },
    },
  },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
});
