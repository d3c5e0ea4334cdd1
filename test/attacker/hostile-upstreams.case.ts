// Brief B in any host: hostile upstreams of both eras (raw node:http mocks, see
// hostile-upstream.ts) answer with other ids, batches, foreign progress and their own requests;
// legacy and 2026-07-28 clients must get only what belongs to their call. The same matrix runs
// through the broker (the built Node gateway) and the worker (the built bundle in workerd).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Answer } from './answers.ts';
import { HOSTILE_TOOLS, startHostileUpstream, type HostileUpstream, type UpstreamEra } from './hostile-upstream.ts';
import { DROPPED, expectOnlyItsOwn, warnCount, warnsAfter, type HostileCase, type MadeCall } from './hostile-relay.ts';
import { openLegacySession, postLegacy, postModern, type HostServer, type HttpHost } from './http-hosts.ts';
import { waitForTools } from './sessions.case.ts';

/** The hostile upstreams: one of each era. */
export const UPSTREAMS = {
  legacy: { name: 'hostile-legacy', prefix: 'hl_' },
  modern: { name: 'hostile-modern', prefix: 'hm_' },
} as const;

/**
 * Registers the hostile matrix against the host `start` builds in front of the hostile upstreams
 * (plus `extra` servers); resolves the host for further tests.
 */
export function describeHostileUpstreams(
  kind: string,
  start: (servers: readonly HostServer[]) => Promise<HttpHost>,
  extra: () => Promise<readonly HostServer[]> = async () => [],
  extraTools: readonly string[] = [],
): { host: () => HttpHost } {
  let hostile: Record<UpstreamEra, HostileUpstream>;
  let host: HttpHost;

  beforeAll(async () => {
    hostile = {
      legacy: await startHostileUpstream({ name: UPSTREAMS.legacy.name, era: 'legacy', tools: HOSTILE_TOOLS }),
      modern: await startHostileUpstream({ name: UPSTREAMS.modern.name, era: 'modern', tools: HOSTILE_TOOLS }),
    };
    host = await start([
      { name: UPSTREAMS.legacy.name, url: hostile.legacy.url, prefix: UPSTREAMS.legacy.prefix },
      { name: UPSTREAMS.modern.name, url: hostile.modern.url, prefix: UPSTREAMS.modern.prefix },
      ...(await extra()),
    ]);
    await waitForTools(host, ['hl_wrong_id', 'hm_wrong_id', ...extraTools]);
  });

  afterAll(async () => {
    await host?.stop();
    await Promise.all([hostile?.legacy.stop(), hostile?.modern.stop()]);
  });

  const CASES: readonly HostileCase[] = ['wrong_id', 'batch', 'mixed_stream', 'elicit_stream'];

  /** Calls the hostile tool `tool` of the `era` upstream as a legacy or 2026-07-28 client. */
  async function callHostile(
    client: 'legacy' | 'modern',
    era: UpstreamEra,
    tool: HostileCase,
  ): Promise<[Answer, MadeCall]> {
    const upstream = UPSTREAMS[era];
    const progressToken = `progress-${randomUUID()}`;
    const params = { name: `${upstream.prefix}${tool}`, arguments: {}, _meta: { progressToken } };
    const authorization = `Bearer ${client}-client-of-the-hostile-suite`;
    let answer: Answer;
    let id: string | number;
    if (client === 'legacy') {
      id = `call-${randomUUID()}`;
      const sessionId = await openLegacySession(host, { authorization }, { elicitation: {} });
      answer = await postLegacy(host, { jsonrpc: '2.0', id, method: 'tools/call', params }, sessionId, {
        authorization,
      });
    } else {
      id = Math.floor(Math.random() * 1_000_000);
      answer = await postModern(host, { id, method: 'tools/call', params }, { authorization });
    }
    return [answer, { id, progressToken, upstream: upstream.name, tool }];
  }

  const MATRIX = [
    // The elicitation of a legacy upstream becomes an input_required result for a 2026-07-28 client: not case d.
    { client: 'legacy', era: 'legacy', cases: CASES, serverRequests: 'delivered' },
    { client: 'legacy', era: 'modern', cases: CASES, serverRequests: 'not-upstream-ids' },
    { client: 'modern', era: 'modern', cases: CASES, serverRequests: 'not-upstream-ids' },
    { client: 'modern', era: 'legacy', cases: CASES.filter((c) => c !== 'elicit_stream'), serverRequests: 'delivered' },
  ] as const;

  describe.each(MATRIX)(
    `a $client client calling a hostile $era upstream through the ${kind}`,
    ({ client, era, cases, serverRequests }) => {
      it.each(cases)('gets only what belongs to its own call when the upstream answers with %s', async (tool) => {
        const before = warnCount(host.logs());
        const [answer, call] = await callHostile(client, era, tool);
        expectOnlyItsOwn(answer, call, serverRequests);
        const added = await warnsAfter(() => host.logs(), before, DROPPED[tool]);
        expect({ tool, droppedLoggedAtWarn: added >= DROPPED[tool] }).toEqual({ tool, droppedLoggedAtWarn: true });
      });
    },
  );

  return { host: () => host };
}
