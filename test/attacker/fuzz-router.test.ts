// Fuzzed input to the Envoy ext_proc router (brief C): many thousands of requests of both eras
// through the exported translation functions in process (request headers, then request body, as
// Envoy would ask), and a few hundred over real gRPC to the built gateway's router. Every answer
// must be a valid ProcessingResponse, and the router must still answer at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { readableId } from './answers.ts';
import {
  describeRequest,
  fuzzRuns,
  fuzzSeed,
  sampleRequests,
  type FuzzContext,
  type FuzzRequest,
} from './fuzz-cases.ts';
import { fuzzReport, inPool, type FuzzFailure } from './fuzz-http.case.ts';
import { brokerOf, LEGACY_VERSION, openLegacySession } from './http-hosts.ts';
import { createInProcessRouter, routesToUpstream, type InProcessRouter } from './in-process-router.ts';
import { processingProblems } from './processing-checks.ts';
import { routerMessages, setHeadersOf, startRouterHost, type RouterHost } from './router-host.ts';
import { registerTargets, waitForTools } from './sessions.case.ts';

const ERAS = ['legacy', 'modern'] as const;
const NAMES = ['t_echo', 't_greet', 'm_shout'];
const URIS = ['test://t_doc'];

let targets: SdkUpstream;

beforeAll(async () => {
  targets = await startSdkUpstream({ name: 'targets', setup: registerTargets });
});

afterAll(async () => {
  await targets?.stop();
});

describe('the router translating fuzzed requests in process', () => {
  let router: InProcessRouter;

  beforeAll(async () => {
    router = await createInProcessRouter(targets.url);
  });

  afterAll(async () => {
    await router?.close();
  });

  /** The problems of each answer the router gives `request` (both phases Envoy would ask about). */
  async function translate(request: FuzzRequest): Promise<string[]> {
    const id = readableId(request.body);
    let answers;
    try {
      answers = await router.translate(request);
    } catch (error) {
      return [`a phase threw ${String(error)}`];
    }
    for (const answer of answers) if (routesToUpstream(answer)) routed += 1;
    return answers.flatMap((answer, i) =>
      processingProblems(answer, id).map((p) => `${i === 0 ? 'request headers' : 'request body'}: ${p}`),
    );
  }
  let routed = 0;

  it.each(ERAS)(
    'answers every fuzzed %s-era request with valid ProcessingResponses',
    async (era) => {
      const seed = fuzzSeed();
      const runs = fuzzRuns(20_000);
      const requests = sampleRequests({ era, sessions: router.sessions, names: NAMES, uris: URIS }, seed, runs);
      const failures: FuzzFailure[] = [];
      routed = 0;
      for (const [index, request] of requests.entries()) {
        const problems = await translate(request);
        if (problems.length > 0)
          failures.push({ index, kind: 'in process', request: describeRequest(request), answer: '', problems });
      }
      if (failures.length > 0)
        throw new Error(fuzzReport(`${era}-era requests to the router (in process)`, seed, runs, failures));
      // The run reached the routing paths, not only the refusals.
      expect(routed, `calls routed to an upstream (ATTACKER_SEED=${seed})`).toBeGreaterThan(runs / 1_000);
    },
    55_000,
  );
});

describe('the router answering fuzzed requests over gRPC', () => {
  let router: RouterHost;
  let sessions: FuzzContext['sessions'];

  beforeAll(async () => {
    router = await startRouterHost(
      [{ name: 'targets', url: targets.url, prefix: 't_', hostname: 'targets.mcp.local' }],
      ['--log-level', 'info'],
    );
    const broker = brokerOf(router.gateway);
    await waitForTools(broker, ['t_echo']);
    const owner = 'Bearer fuzz-session-owner';
    const ended = await openLegacySession(broker);
    await broker.fetch({
      method: 'DELETE',
      headers: { 'mcp-session-id': ended, 'mcp-protocol-version': LEGACY_VERSION },
    });
    sessions = [
      { id: await openLegacySession(broker), authorization: undefined },
      { id: await openLegacySession(broker, { authorization: owner }), authorization: owner },
      { id: ended, authorization: undefined },
    ];
  });

  afterAll(async () => {
    await router?.stop();
  });

  it.each(ERAS)(
    'answers every fuzzed %s-era request with valid ProcessingResponses and keeps answering',
    async (era) => {
      const seed = fuzzSeed();
      const runs = fuzzRuns(300);
      const requests = sampleRequests({ era, sessions, names: NAMES, uris: URIS }, seed, runs);
      const outcomes = await inPool(requests, 4, async (request, index): Promise<FuzzFailure> => {
        const describe = describeRequest(request);
        try {
          const answers = await router.exchange(routerMessages({ headers: request.headers, body: request.body }));
          const id = readableId(request.body);
          const problems =
            answers.length === 0 ? ['no answer at all'] : answers.flatMap((answer) => processingProblems(answer, id));
          return { index, kind: 'gRPC', request: describe, answer: `${answers.length} answers`, problems };
        } catch (error) {
          return {
            index,
            kind: 'gRPC',
            request: describe,
            answer: 'stream failed',
            problems: [`the stream failed: ${String(error)}`],
          };
        }
      });
      const still = await router.exchange(
        routerMessages({
          headers: { 'mcp-session-id': sessions[0]!.id, 'mcp-protocol-version': LEGACY_VERSION },
          body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        }),
      );
      expect(
        {
          stillRoutesToTheBroker: setHeadersOf(still).some(
            (h) => h.key === 'x-mcp-servername' && h.value === 'mcpBroker',
          ),
        },
        `after the run (ATTACKER_SEED=${seed})`,
      ).toEqual({ stillRoutesToTheBroker: true });
      const failures = outcomes.filter((outcome) => outcome.problems.length > 0);
      if (failures.length > 0)
        throw new Error(fuzzReport(`${era}-era requests to the router (gRPC)`, seed, runs, failures));
    },
    55_000,
  );
});
