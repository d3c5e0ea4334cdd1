import { randomUUID } from 'node:crypto';
import {
  acceptedContent,
  CLIENT_CAPABILITIES_META_KEY,
  inputRequired,
  inputResponse,
  type CallToolResult,
  type ClientCapabilities,
  type GetPromptResult,
  type InputRequest,
  type InputRequests,
  type InputRequiredResult,
  type McpServer,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { z } from 'zod';

/** The payload the fixture seals into `requestState`; `tool` keeps one tool's state out of another's. */
export interface FixtureRequestState {
  readonly tool: string;
  readonly round?: number;
  readonly name?: string;
  readonly nonce: string;
}

type ToolOutcome = Promise<CallToolResult | InputRequiredResult>;

const NO_ARGUMENTS = z.object({});

function text(value: string): CallToolResult {
  return { content: [{ type: 'text', text: value }] };
}

function askFor(field: string, message: string): InputRequest {
  return inputRequired.elicit({
    message,
    requestedSchema: { type: 'object', properties: { [field]: { type: 'string' } }, required: [field] },
  });
}

const askConfirmation = (): InputRequest =>
  inputRequired.elicit({
    message: 'Please confirm',
    requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
  });

const askGreeting = (): InputRequest =>
  inputRequired.createMessage({
    messages: [{ role: 'user', content: { type: 'text', text: 'Generate a short greeting' } }],
    maxTokens: 50,
  });

/**
 * Registers the multi-round-trip tools and prompt of the `input-required-result-*`
 * scenarios (SEP-2322). Each returns an InputRequiredResult until the retried request
 * carries the responses it asked for. `requestState` is sealed with `codec`; the server's
 * `requestState.verify` hook rejects tampered state with -32602 before a handler runs.
 * @see https://modelcontextprotocol.io/specification/2026-07-28/basic/patterns/mrtr
 */
export function registerInputRequiredTools(server: McpServer, codec: RequestStateCodec<FixtureRequestState>): void {
  const seal = (tool: string, extra: Partial<FixtureRequestState> = {}) =>
    codec.mint({ tool, nonce: randomUUID(), ...extra });
  const tool = (name: string, description: string, handler: (ctx: ServerContext) => ToolOutcome) =>
    server.registerTool(name, { description, inputSchema: NO_ARGUMENTS }, (_args, ctx) => handler(ctx));

  tool('test_input_required_result_elicitation', 'Asks for the caller name by elicitation', async (ctx) => {
    const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'user_name')?.name;
    if (typeof name === 'string') return text(`Hello, ${name}!`);
    return inputRequired({ inputRequests: { user_name: askFor('name', 'What is your name?') } });
  });

  tool('test_input_required_result_sampling', 'Asks for an LLM completion by sampling', async (ctx) => {
    const answer = inputResponse(ctx.mcpReq.inputResponses, 'capital_question');
    if (answer.kind === 'sampling') return text(`Sampling response: ${JSON.stringify(answer.result.content)}`);
    return inputRequired({
      inputRequests: {
        capital_question: inputRequired.createMessage({
          messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }],
          maxTokens: 100,
        }),
      },
    });
  });

  tool('test_input_required_result_list_roots', 'Asks for the client roots', async (ctx) => {
    const roots = inputResponse(ctx.mcpReq.inputResponses, 'client_roots');
    if (roots.kind === 'roots') return text(`Client exposed ${roots.roots.length} root(s)`);
    return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
  });

  tool(
    'test_input_required_result_request_state',
    'Round-trips sealed requestState with a confirmation',
    async (ctx) => {
      const state = ctx.mcpReq.requestState<FixtureRequestState>();
      if (state?.tool === 'request_state' && acceptedContent(ctx.mcpReq.inputResponses, 'confirm') !== undefined) {
        return text('state-ok: requestState verified and confirmation received');
      }
      return inputRequired({
        inputRequests: { confirm: askConfirmation() },
        requestState: await seal('request_state'),
      });
    },
  );

  tool(
    'test_input_required_result_multiple_inputs',
    'Asks for elicitation, sampling and roots at once',
    async (ctx) => {
      const responses = ctx.mcpReq.inputResponses;
      const name = acceptedContent<{ name: string }>(responses, 'user_name')?.name;
      const greeting = inputResponse(responses, 'greeting');
      const roots = inputResponse(responses, 'client_roots');
      if (typeof name === 'string' && greeting.kind === 'sampling' && roots.kind === 'roots') {
        return text(`Name: ${name}; Roots: ${roots.roots.length}`);
      }
      return inputRequired({
        inputRequests: {
          user_name: askFor('name', 'What is your name?'),
          greeting: askGreeting(),
          client_roots: inputRequired.listRoots(),
        },
        requestState: await seal('multiple_inputs'),
      });
    },
  );

  tool('test_input_required_result_multi_round', 'Two elicitation rounds with evolving requestState', async (ctx) => {
    const state = ctx.mcpReq.requestState<FixtureRequestState>();
    const round = state?.tool === 'multi_round' ? (state.round ?? 0) : 0;
    if (round === 0) {
      return inputRequired({
        inputRequests: { step1: askFor('name', 'Step 1: What is your name?') },
        requestState: await seal('multi_round', { round: 1 }),
      });
    }
    if (round === 1) {
      const name = acceptedContent<{ name: string }>(ctx.mcpReq.inputResponses, 'step1')?.name ?? 'unknown';
      return inputRequired({
        inputRequests: { step2: askFor('color', 'Step 2: What is your favorite color?') },
        requestState: await seal('multi_round', { round: 2, name }),
      });
    }
    const color = acceptedContent<{ color: string }>(ctx.mcpReq.inputResponses, 'step2')?.color ?? 'unknown';
    return text(`Multi-round complete for ${state?.name ?? 'unknown'} who likes ${color}`);
  });

  tool('test_input_required_result_tampered_state', 'Rejects retries whose requestState was altered', async (ctx) => {
    const state = ctx.mcpReq.requestState<FixtureRequestState>();
    if (state?.tool === 'tampered_state' && acceptedContent(ctx.mcpReq.inputResponses, 'confirm') !== undefined) {
      return text('integrity-ok: requestState verified');
    }
    return inputRequired({ inputRequests: { confirm: askConfirmation() }, requestState: await seal('tampered_state') });
  });

  tool('test_input_required_result_capabilities', 'Asks only for what the client declared', async (ctx) => {
    if (ctx.mcpReq.inputResponses !== undefined) return text('Capability-aware input requests fulfilled');
    // The SDK types the envelope loosely; the capabilities key holds the request's ClientCapabilities.
    const envelope = ctx.mcpReq.envelope as Record<string, ClientCapabilities | undefined> | undefined;
    const declared = envelope?.[CLIENT_CAPABILITIES_META_KEY];
    const inputRequests: InputRequests = {};
    if (declared?.elicitation !== undefined) inputRequests.user_name = askFor('name', 'What is your name?');
    if (declared?.sampling !== undefined) inputRequests.greeting = askGreeting();
    if (declared?.roots !== undefined) inputRequests.client_roots = inputRequired.listRoots();
    if (Object.keys(inputRequests).length === 0) return text('No declared capability allows an input request');
    return inputRequired({ inputRequests });
  });

  server.registerPrompt(
    'test_input_required_result_prompt',
    { description: 'A prompt that asks for context by elicitation before rendering' },
    async (ctx: ServerContext): Promise<GetPromptResult | InputRequiredResult> => {
      const context = acceptedContent<{ context: string }>(ctx.mcpReq.inputResponses, 'user_context')?.context;
      if (typeof context !== 'string') {
        return inputRequired({
          inputRequests: { user_context: askFor('context', 'What context should the prompt use?') },
        });
      }
      return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with context: ${context}` } }] };
    },
  );
}
