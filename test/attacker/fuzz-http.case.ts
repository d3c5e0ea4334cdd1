// Fuzzed input over HTTP (brief C), as one suite run against every HTTP host (fuzz-broker.test.ts,
// fuzz-worker.test.ts): seeded streams of requests of each era, every answer checked for
// well-formedness, and the host still healthy at the end. Every violation is collected (not just
// the first), grouped by kind, and reported with the seed that replays the run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startModernUpstream, startSdkUpstream, type ModernUpstream, type SdkUpstream } from '../harness/index.ts';
import { registerShout } from '../harness/era-tools.ts';
import { answerProblems, isClientResponse, readableId, type Answer } from './answers.ts';
import {
  describeRequest,
  fuzzRuns,
  fuzzSeed,
  sampleRequests,
  type FuzzContext,
  type FuzzRequest,
} from './fuzz-cases.ts';
import { LEGACY_VERSION, openLegacySession, type HttpHost } from './http-hosts.ts';
import { registerTargets, TARGET_PREFIX, waitForTools, type StartHost } from './sessions.case.ts';

/** One request whose answer broke the rules. */
export interface FuzzFailure {
  readonly index: number;
  /** What kind of answer it was (status, JSON-RPC error code and message), to group problems by. */
  readonly kind: string;
  readonly request: string;
  readonly answer: string;
  readonly problems: readonly string[];
}

/** Runs `work` over `items` with at most `concurrency` in flight; resolves with the results in order. */
export async function inPool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** The report of a failed run: the seed to replay it, then each kind of problem with a count and an example. */
export function fuzzReport(what: string, seed: number, runs: number, failures: readonly FuzzFailure[]): string {
  const kinds = new Map<string, { count: number; example: FuzzFailure; problem: string }>();
  for (const failure of failures) {
    for (const problem of failure.problems) {
      const kind = `${problem.replace(/"(?:[^"\\]|\\.)*"|-?\d[\d.e+-]*/g, '…').slice(0, 90)} [${failure.kind}]`;
      const known = kinds.get(kind);
      if (known === undefined) kinds.set(kind, { count: 1, example: failure, problem });
      else known.count += 1;
    }
  }
  const lines = [
    `${failures.length} of ${runs} fuzzed ${what} answered ill-formed (replay: ATTACKER_SEED=${seed}):`,
    ...[...kinds.values()].map(
      ({ count, example, problem }) =>
        `- ${count}× ${problem}\n    e.g. #${example.index}: ${example.request}\n    answered: ${example.answer}`,
    ),
  ];
  return lines.join('\n');
}

/** The kind of an answer: its status and, for a JSON-RPC error, its code and the start of its message (values elided). */
export function answerKind(answer: Answer): string {
  const error = answer.messages.find((m) => 'error' in m)?.['error'] as
    { code?: unknown; message?: unknown } | undefined;
  const message = typeof error?.message === 'string' ? error.message.replace(/:.*$/, '').slice(0, 40) : '';
  return `HTTP ${answer.status}${error === undefined ? '' : ` ${String(error.code)} ${message}`}`;
}

/** A short description of an answer for reports. */
export function describeAnswer(answer: Answer): string {
  const text = answer.text.length > 200 ? `${answer.text.slice(0, 200)}…` : answer.text;
  return `${answer.status} ${answer.headers['content-type'] ?? ''} ${JSON.stringify(text)}`;
}

/** The suite, for the host `start` makes; `runsPerEra` requests of each era (ATTACKER_FUZZ_RUNS overrides). */
export function describeHttpFuzz(hostName: string, start: StartHost, runsPerEra: number): void {
  describe(`fuzzed input to the ${hostName}`, () => {
    let targets: SdkUpstream;
    let modern: ModernUpstream;
    let host: HttpHost;
    let sessions: FuzzContext['sessions'];

    beforeAll(async () => {
      targets = await startSdkUpstream({ name: 'targets', setup: registerTargets });
      modern = await startModernUpstream({ name: 'modern', setup: registerShout });
      host = await start([
        { name: 'targets', url: targets.url, prefix: TARGET_PREFIX },
        { name: 'modern', url: modern.url, prefix: 'm_' },
      ]);
      await waitForTools(host, ['t_echo', 'm_shout']);
      const owner = 'Bearer fuzz-session-owner';
      const ended = await openLegacySession(host);
      await host.fetch({
        method: 'DELETE',
        headers: { 'mcp-session-id': ended, 'mcp-protocol-version': LEGACY_VERSION },
      });
      sessions = [
        { id: await openLegacySession(host), authorization: undefined },
        { id: await openLegacySession(host, { authorization: owner }, { elicitation: {} }), authorization: owner },
        { id: ended, authorization: undefined },
      ];
    });

    afterAll(async () => {
      await host?.stop();
      await targets?.stop();
      await modern?.stop();
    });

    it.each(['legacy', 'modern'] as const)(
      'answers every fuzzed %s-era request well-formed and stays up',
      async (era) => {
        const seed = fuzzSeed();
        const runs = fuzzRuns(runsPerEra);
        const context: FuzzContext = { era, sessions, names: ['t_echo', 't_greet', 'm_shout'], uris: ['test://t_doc'] };
        const requests = sampleRequests(context, seed, runs);
        const outcomes = await inPool(requests, 4, async (request: FuzzRequest, index) => {
          let answer: Answer;
          try {
            answer = await host.fetch({ headers: request.headers, body: request.body, deadlineMs: 1_000 });
          } catch (error) {
            return {
              index,
              kind: 'no answer',
              request: describeRequest(request),
              answer: 'no answer',
              problems: [`no HTTP answer: ${String(error)}`],
            };
          }
          const problems = answerProblems(answer, {
            id: readableId(request.body),
            response: isClientResponse(request.body),
          });
          return {
            index,
            kind: answerKind(answer),
            request: describeRequest(request),
            answer: describeAnswer(answer),
            problems,
          };
        });
        const health = await host.fetch({ method: 'GET', path: '/healthz' });
        const failures = outcomes.filter((outcome) => outcome.problems.length > 0);
        expect({ healthz: health.status }, `after the run (ATTACKER_SEED=${seed})`).toEqual({ healthz: 200 });
        if (failures.length > 0)
          throw new Error(fuzzReport(`${era}-era requests to the ${hostName}`, seed, runs, failures));
      },
      55_000,
    );
  });
}
