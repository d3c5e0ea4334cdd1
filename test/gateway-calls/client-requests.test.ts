import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  type CreateMessageResult,
  type ElicitResult,
  type ListRootsResult,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSdkClient, startSdkUpstream, type RunningGateway, type SdkUpstream } from '../harness/index.ts';
import { startGatewayFor, waitForTools } from './helpers.ts';

/** What each upstream tool got back from its server-to-client request, for the test to compare. */
const answers: { elicit?: unknown; sample?: unknown; roots?: unknown } = {};

const ELICIT_PARAMS = {
  message: 'Which colour should the report use?',
  requestedSchema: {
    type: 'object' as const,
    properties: { colour: { type: 'string' as const }, shades: { type: 'number' as const } },
    required: ['colour'],
  },
};

/** Tools that ask the client something on the call's own stream (relatedRequestId) and return. */
function askingSetup(server: McpServer) {
  server.registerTool('ask', {}, async (extra) => {
    answers.elicit = await server.server.elicitInput(ELICIT_PARAMS, { relatedRequestId: extra.requestId });
    return { content: [{ type: 'text', text: 'asked' }] };
  });
  server.registerTool('sample', {}, async (extra) => {
    answers.sample = await server.server.createMessage(
      { messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 16 },
      { relatedRequestId: extra.requestId },
    );
    return { content: [{ type: 'text', text: 'sampled' }] };
  });
  server.registerTool('roots', {}, async (extra) => {
    answers.roots = await server.server.listRoots(undefined, { relatedRequestId: extra.requestId });
    return { content: [{ type: 'text', text: 'listed roots' }] };
  });
}

describe('server-to-client requests during a call', () => {
  let upstream: SdkUpstream;
  let gateway: RunningGateway;

  beforeAll(async () => {
    upstream = await startSdkUpstream({ setup: askingSetup });
    gateway = await startGatewayFor([{ name: 'asker', url: upstream.url, prefix: 'q_' }]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.stop();
  });

  it("gives the upstream exactly a 1.x client's answers to elicitation, sampling and roots requests", async () => {
    const { client, close } = await connectSdkClient(gateway.url, {
      version: 1,
      capabilities: { elicitation: { form: {} }, sampling: {}, roots: { listChanged: true } },
    });
    const elicitAnswer: ElicitResult = { action: 'accept', content: { colour: 'vert émeraude 🟢', shades: 3 } };
    const sampleAnswer: CreateMessageResult = {
      model: 'test-model',
      role: 'assistant',
      content: { type: 'text', text: 'hi there' },
      stopReason: 'endTurn',
    };
    const rootsAnswer: ListRootsResult = { roots: [{ uri: 'file:///home/user/project', name: 'project' }] };
    const asked: unknown[] = [];
    client.setRequestHandler(ElicitRequestSchema, (request) => {
      asked.push(request.params);
      return elicitAnswer;
    });
    client.setRequestHandler(CreateMessageRequestSchema, (request) => {
      asked.push(request.params.messages);
      return sampleAnswer;
    });
    client.setRequestHandler(ListRootsRequestSchema, () => rootsAnswer);
    try {
      await waitForTools(client, ['q_ask', 'q_sample', 'q_roots']);

      expect((await client.callTool({ name: 'q_ask', arguments: {} })).content).toEqual([
        { type: 'text', text: 'asked' },
      ]);
      expect((await client.callTool({ name: 'q_sample', arguments: {} })).content).toEqual([
        { type: 'text', text: 'sampled' },
      ]);
      expect((await client.callTool({ name: 'q_roots', arguments: {} })).content).toEqual([
        { type: 'text', text: 'listed roots' },
      ]);

      expect(asked).toEqual([
        { mode: 'form', ...ELICIT_PARAMS },
        [{ role: 'user', content: { type: 'text', text: 'Say hi' } }],
      ]);
      expect(answers.elicit).toEqual(elicitAnswer);
      expect(answers.sample).toEqual(sampleAnswer);
      expect(answers.roots).toEqual(rootsAnswer);
    } finally {
      await close();
    }
  });

  it("gives the upstream exactly a 2.x client's answer to an elicitation request", async () => {
    const { client, close } = await connectSdkClient(gateway.url, {
      version: 2,
      capabilities: { elicitation: { form: {} } },
    });
    const elicitAnswer = { action: 'accept' as const, content: { colour: 'indigo', shades: 7 } };
    let asked: unknown;
    client.setRequestHandler('elicitation/create', (request) => {
      asked = request.params;
      return elicitAnswer;
    });
    try {
      await waitForTools(client, ['q_ask']);
      answers.elicit = undefined;

      const result = await client.callTool({ name: 'q_ask', arguments: {} });

      expect(result.content).toEqual([{ type: 'text', text: 'asked' }]);
      expect(asked).toMatchObject(ELICIT_PARAMS);
      expect(answers.elicit).toEqual(elicitAnswer);
    } finally {
      await close();
    }
  });
});
