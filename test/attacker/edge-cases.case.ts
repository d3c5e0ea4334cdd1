// The brief's specific hostile inputs (C), one test each, as one suite run against every HTTP
// host (edge-cases-broker.test.ts, edge-cases-worker.test.ts): JSON-RPC methods named like
// Object.prototype members, JSON nested past the depth limit, and requests on an ended session.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { answerProblems, responsesOf, type Answer } from './answers.ts';
import {
  LEGACY_VERSION,
  modernMeta,
  MODERN_VERSION,
  openLegacySession,
  POST_HEADERS,
  postLegacy,
  postModern,
  type HttpHost,
} from './http-hosts.ts';
import { PROTOTYPE_METHODS } from './fuzz-cases.ts';
import {
  expectSessionNotFound,
  registerTargets,
  TARGET_PREFIX,
  waitForTools,
  type StartHost,
} from './sessions.case.ts';

/** The depth limit the gateway documents for JSON bodies. */
export const MAX_JSON_DEPTH = 128;

/** JSON text of `levels` nested arrays. */
export function nestedArrays(levels: number): string {
  return `${'['.repeat(levels)}${']'.repeat(levels)}`;
}

/** The JSON-RPC error of the one response in `answer`. */
function errorOf(answer: Answer): { code?: unknown; message?: unknown } | undefined {
  return responsesOf(answer.messages)[0]?.['error'] as { code?: unknown; message?: unknown } | undefined;
}

/** The refusal of JSON nested past the limit: 400, -32600, a message naming the limit, and `id`. */
function expectTooDeep(answer: Answer, id: string | number | null, what: string): void {
  const error = errorOf(answer);
  const response = responsesOf(answer.messages)[0];
  expect({ what, status: answer.status, code: error?.code, message: error?.message, id: response?.['id'] }).toEqual({
    what,
    status: 400,
    code: -32600,
    message: expect.stringMatching(new RegExp(`nest.*deeper than.*${MAX_JSON_DEPTH}|${MAX_JSON_DEPTH}.*level`, 'i')),
    id,
  });
}

/** Modern request headers for `method`. */
const modernHeaders = (method: string) => ({
  ...POST_HEADERS,
  'mcp-protocol-version': MODERN_VERSION,
  'mcp-method': method,
});

const ENVELOPE = JSON.stringify(modernMeta());

/** The suite, for the host `start` makes. */
export function describeEdgeCases(hostName: string, start: StartHost): void {
  describe(`hostile input to the ${hostName}`, () => {
    let targets: SdkUpstream;
    let host: HttpHost;
    let sessionId: string;

    beforeAll(async () => {
      targets = await startSdkUpstream({ name: 'targets', setup: registerTargets });
      host = await start([{ name: 'targets', url: targets.url, prefix: TARGET_PREFIX }]);
      await waitForTools(host, ['t_echo']);
      sessionId = await openLegacySession(host);
    });

    afterAll(async () => {
      await host?.stop();
      await targets?.stop();
    });

    it('answers legacy requests for Object.prototype method names with -32601 and the request id (HTTP 200)', async () => {
      for (const method of PROTOTYPE_METHODS) {
        const id = `proto-${method}`;
        const answer = await postLegacy(host, { jsonrpc: '2.0', id, method }, sessionId);
        const response = responsesOf(answer.messages)[0];
        expect({
          method,
          status: answer.status,
          problems: answerProblems(answer, { id }),
          code: errorOf(answer)?.code,
          id: response?.['id'],
        }).toEqual({
          method,
          status: 200,
          problems: [],
          code: -32601,
          id,
        });
      }
    });

    it('answers 2026-07-28 requests for Object.prototype method names with 404, -32601 and the request id', async () => {
      for (const method of PROTOTYPE_METHODS) {
        const id = `proto-${method}`;
        const answer = await postModern(host, { id, method });
        const response = responsesOf(answer.messages)[0];
        expect({
          method,
          status: answer.status,
          problems: answerProblems(answer, { id }),
          code: errorOf(answer)?.code,
          id: response?.['id'],
        }).toEqual({
          method,
          status: 404,
          problems: [],
          code: -32601,
          id,
        });
      }
    });

    describe('JSON nested 20 000 levels deep', () => {
      const deep = nestedArrays(20_000);

      it('is refused in a legacy param value with 400, -32600 naming the limit, and the id that precedes it', async () => {
        const answer = await postLegacy(
          host,
          `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t_echo","arguments":{"text":"x","deep":${deep}}}}`,
          sessionId,
        );
        expectTooDeep(answer, 7, 'id before the deep part');
      });

      it('is refused in a legacy param value with id null when the id comes after it', async () => {
        const answer = await postLegacy(
          host,
          `{"params":{"name":"t_echo","arguments":{"text":"x","deep":${deep}}},"jsonrpc":"2.0","id":7,"method":"tools/call"}`,
          sessionId,
        );
        expectTooDeep(answer, null, 'id after the deep part');
      });

      it('is refused as the whole legacy body with id null', async () => {
        expectTooDeep(await postLegacy(host, deep, sessionId), null, 'a deep body');
      });

      it('is refused in a 2026-07-28 param value with 400, -32600 and the id that precedes it', async () => {
        const answer = await host.fetch({
          headers: { ...modernHeaders('tools/call'), 'mcp-name': 't_echo' },
          body: `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"_meta":${ENVELOPE},"name":"t_echo","arguments":{"text":"x","deep":${deep}}}}`,
        });
        expectTooDeep(answer, 9, 'id before the deep part');
      });

      it('is refused in a 2026-07-28 param value with id null when the id comes after it', async () => {
        const answer = await host.fetch({
          headers: { ...modernHeaders('tools/call'), 'mcp-name': 't_echo' },
          body: `{"params":{"arguments":{"text":"x","deep":${deep}},"name":"t_echo","_meta":${ENVELOPE}},"jsonrpc":"2.0","id":9,"method":"tools/call"}`,
        });
        expectTooDeep(answer, null, 'id after the deep part');
      });

      it('is refused as the whole 2026-07-28 body with id null', async () => {
        expectTooDeep(
          await host.fetch({ headers: { ...modernHeaders('tools/call'), 'mcp-name': 't_echo' }, body: deep }),
          null,
          'a deep body',
        );
      });
    });

    it('accepts JSON nested 100 levels deep in both eras', async () => {
      // The whole document nests 100 levels: the message, params, arguments and 97 arrays.
      const deep = nestedArrays(97);
      const legacy = await postLegacy(
        host,
        `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"t_echo","arguments":{"text":"deep","deep":${deep}}}}`,
        sessionId,
      );
      const modern = await host.fetch({
        headers: { ...modernHeaders('tools/call'), 'mcp-name': 't_echo' },
        body: `{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"_meta":${ENVELOPE},"name":"t_echo","arguments":{"text":"deep","deep":${deep}}}}`,
      });
      for (const [era, answer, id] of [
        ['legacy', legacy, 11],
        ['2026-07-28', modern, 12],
      ] as const) {
        const response = responsesOf(answer.messages)[0];
        const content = (response?.['result'] as { content?: unknown } | undefined)?.content;
        expect({ era, status: answer.status, id: response?.['id'], content }).toEqual({
          era,
          status: 200,
          id,
          content: [{ type: 'text', text: 'echo: deep' }],
        });
      }
    });

    it('answers 404 to every request on a session after its DELETE', async () => {
      const ended = await openLegacySession(host);
      const own = await postLegacy(
        host,
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 't_echo', arguments: { text: 'before' } } },
        ended,
      );
      expect(responsesOf(own.messages)[0]?.['result']).toBeDefined();
      const deleted = await host.fetch({
        method: 'DELETE',
        headers: { 'mcp-session-id': ended, 'mcp-protocol-version': LEGACY_VERSION },
      });
      expect(deleted.status).toBe(200);

      const rpc = (method: string, params?: Record<string, unknown>) => ({
        jsonrpc: '2.0',
        id: randomUUID(),
        method,
        ...(params ? { params } : {}),
      });
      const later: [string, () => Promise<Answer>][] = [
        ['a known method', () => postLegacy(host, rpc('tools/list'), ended)],
        ['an unknown method', () => postLegacy(host, rpc('no/such/method'), ended)],
        [
          'tools/call of an unknown tool',
          () => postLegacy(host, rpc('tools/call', { name: 'no_such_tool', arguments: {} }), ended),
        ],
        [
          'tools/call of a known tool',
          () => postLegacy(host, rpc('tools/call', { name: 't_echo', arguments: { text: 'late' } }), ended),
        ],
        ['a notification', () => postLegacy(host, { jsonrpc: '2.0', method: 'notifications/initialized' }, ended)],
        ['a response', () => postLegacy(host, { jsonrpc: '2.0', id: 'elicit-1', result: {} }, ended)],
        [
          'GET',
          () =>
            host.fetch({
              method: 'GET',
              headers: { accept: 'text/event-stream', 'mcp-session-id': ended, 'mcp-protocol-version': LEGACY_VERSION },
            }),
        ],
        [
          'DELETE again',
          () =>
            host.fetch({
              method: 'DELETE',
              headers: { 'mcp-session-id': ended, 'mcp-protocol-version': LEGACY_VERSION },
            }),
        ],
      ];
      for (const [what, send] of later) expectSessionNotFound(await send(), what);
    });
  });
}
