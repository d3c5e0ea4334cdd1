// The brief's specific hostile inputs (C) where they reach the router: Object.prototype method
// names and JSON nested past the depth limit, through the translation functions in process. The
// router may refuse them itself or hand them to the broker (which refuses them, see
// edge-cases-broker.test.ts); it must never route them to an upstream, throw, or answer invalidly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import type { FuzzRequest } from './fuzz-cases.ts';
import { PROTOTYPE_METHODS } from './fuzz-cases.ts';
import { LEGACY_VERSION, modernMeta, MODERN_VERSION, POST_HEADERS } from './http-hosts.ts';
import { createInProcessRouter, routesToUpstream, type InProcessRouter } from './in-process-router.ts';
import { immediateStatus, processingProblems } from './processing-checks.ts';
import { MAX_JSON_DEPTH, nestedArrays } from './edge-cases.case.ts';
import { registerTargets } from './sessions.case.ts';

let targets: SdkUpstream;
let router: InProcessRouter;
let session: string;

beforeAll(async () => {
  targets = await startSdkUpstream({ name: 'targets', setup: registerTargets });
  router = await createInProcessRouter(targets.url);
  session = router.sessions[0]!.id;
});

afterAll(async () => {
  await router?.close();
  await targets?.stop();
});

const legacy = (body: string): FuzzRequest => ({
  headers: { ...POST_HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': LEGACY_VERSION },
  body,
});

const modern = (method: string, body: string, name?: string): FuzzRequest => ({
  headers: {
    ...POST_HEADERS,
    'mcp-protocol-version': MODERN_VERSION,
    'mcp-method': method,
    ...(name === undefined ? {} : { 'mcp-name': name }),
  },
  body,
});

/** What the router did with `request`: its answers' problems, whether it routed to an upstream, and any immediate status. */
async function outcome(request: FuzzRequest, id: string | number | undefined) {
  let answers;
  try {
    answers = await router.translate(request);
  } catch (error) {
    return { threw: String(error).slice(0, 120), problems: [], routedUpstream: false, immediate: undefined };
  }
  const immediate = answers.find((a) => 'immediate_response' in a) as
    { immediate_response: { status: { code: number } } } | undefined;
  return {
    threw: undefined,
    problems: answers.flatMap((answer) => processingProblems(answer, id)),
    routedUpstream: answers.some(routesToUpstream),
    immediate: immediate === undefined ? undefined : immediateStatus(immediate.immediate_response.status.code),
  };
}

/** Refused here (immediate 400) or handed to the broker: never routed, never thrown, always valid. */
const NOT_ROUTED = { threw: undefined, problems: [], routedUpstream: false };

describe('the router and Object.prototype method names', () => {
  it.each(PROTOTYPE_METHODS)('neither routes, throws nor answers invalidly for %s in either era', async (method) => {
    const id = `proto-${method}`;
    const old = await outcome(legacy(JSON.stringify({ jsonrpc: '2.0', id, method })), id);
    expect({ era: 'legacy', ...old, immediate: undefined }).toEqual({
      era: 'legacy',
      ...NOT_ROUTED,
      immediate: undefined,
    });
    const now = await outcome(
      modern(method, JSON.stringify({ jsonrpc: '2.0', id, method, params: { _meta: modernMeta() } })),
      id,
    );
    expect({ era: 'modern', ...now, immediate: undefined }).toEqual({
      era: 'modern',
      ...NOT_ROUTED,
      immediate: undefined,
    });
    // An immediate answer, if the router gives one, is the broker's: 404 in 2026-07-28, 200 in legacy.
    expect([undefined, 200]).toContain(old.immediate);
    expect([undefined, 404]).toContain(now.immediate);
  });
});

describe('the router and JSON nested 20 000 levels deep', () => {
  const deep = nestedArrays(20_000);

  it('neither routes nor throws on a legacy tools/call whose arguments nest that deep, and refuses it with 400 if it answers', async () => {
    const result = await outcome(
      legacy(`{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t_echo","arguments":{"deep":${deep}}}}`),
      7,
    );
    expect({ ...result, immediate: undefined }).toEqual({ ...NOT_ROUTED, immediate: undefined });
    expect([undefined, 400]).toContain(result.immediate);
  });

  it('neither routes nor throws on a 2026-07-28 tools/call whose arguments nest that deep, and refuses it with 400 if it answers', async () => {
    const result = await outcome(
      modern(
        'tools/call',
        `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"_meta":${JSON.stringify(modernMeta())},"name":"m_shout","arguments":{"deep":${deep}}}}`,
        'm_shout',
      ),
      9,
    );
    expect({ ...result, immediate: undefined }).toEqual({ ...NOT_ROUTED, immediate: undefined });
    expect([undefined, 400]).toContain(result.immediate);
  });

  it(`still routes a call nesting 100 levels deep (the limit is ${MAX_JSON_DEPTH})`, async () => {
    const result = await outcome(
      legacy(
        `{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"t_echo","arguments":{"deep":${nestedArrays(97)}}}}`,
      ),
      11,
    );
    expect(result).toEqual({ threw: undefined, problems: [], routedUpstream: true, immediate: undefined });
  });
});
