// The hostile token table (issue 12, item 2), one suite run against each host: the broker
// (hostile-tokens-broker.test.ts), the router behind a real Envoy (hostile-tokens-router.test.ts)
// and the worker (hostile-tokens-worker.test.ts). Every token is sent with two calls of the
// weather tool that the same host forwards to the upstream for a valid token (the controls), so
// "the upstream saw nothing" is a real difference: a 2026-07-28 tools/call, and a legacy tools/call
// on a session alice opened with a valid token (behind Envoy, the router routes that one to the
// upstream itself). The host requires the scope mcp:admin, which bob never gets, and audits every
// decision on a call. At the end: no presented token in the host's logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responsesOf, type Answer } from '../attacker/answers.ts';
import { openLegacySession, postLegacy, postModern } from '../attacker/http-hosts.ts';
import {
  createTokenForge,
  startOidcProvider,
  startRogueIssuer,
  type RogueIssuer,
  type RunningOidcProvider,
  type TokenForge,
} from '../harness/identity.ts';
import type { SdkUpstream } from '../harness/index.ts';
import {
  routedByEnvoy,
  startIdentityHost,
  startWeatherUpstream,
  WEATHER,
  weatherServer,
  type HostKind,
  type IdentityHost,
} from './identity-hosts.ts';

const REQUIRED_SCOPE = 'mcp:admin';
const KIB = 1024;

/** A token that must be refused with 401 invalid_token, and how it is made. */
interface InvalidToken {
  readonly name: string;
  token(forge: TokenForge): Promise<string> | string;
}

const INVALID_TOKENS: readonly InvalidToken[] = [
  { name: 'an expired token', token: (forge) => forge.expired() },
  { name: 'a token for another audience', token: (forge) => forge.wrongAudience() },
  { name: 'a token naming an untrusted issuer', token: (forge) => forge.wrongIssuer() },
  { name: 'an unsigned token (alg none)', token: (forge) => forge.algNone() },
  { name: "a token signed by a foreign key under the provider's kid", token: (forge) => forge.foreignKey() },
  { name: 'an HS256 token keyed with the public key', token: (forge) => forge.hmacWithPublicKey() },
  { name: 'a token without sub', token: (forge) => forge.missingSub() },
  { name: 'a token not valid yet', token: (forge) => forge.notYetValid() },
];

/** What the host answers a token over the gateway's 16 KiB limit but under Envoy's and workerd's header limits. */
export interface OversizedAnswer {
  readonly status: 401 | 431;
  /** Why, when not the gateway's own 401. */
  readonly because?: string;
}

/** The two calls a token is sent with. */
interface Answers {
  readonly modern: Answer;
  readonly legacy: Answer;
}

export function describeHostileTokens(kind: HostKind, oversized: OversizedAnswer): void {
  describe(`hostile tokens through the ${kind}`, () => {
    let idp: RunningOidcProvider;
    let rogue: RogueIssuer;
    let upstream: SdkUpstream;
    let host: IdentityHost;
    let forge: TokenForge;
    /** The legacy session alice opened with a valid token. */
    let sessionId: string;
    /** Every token presented, to look for in the logs at the end. */
    const presented: string[] = [];

    beforeAll(async () => {
      idp = await startOidcProvider();
      rogue = await startRogueIssuer();
      upstream = await startWeatherUpstream();
      host = await startIdentityHost(kind, {
        servers: [weatherServer(upstream)],
        oauth: { issuers: [idp.issuer], requiredScopes: [REQUIRED_SCOPE] },
        audit: true,
      });
      forge = createTokenForge({ issuer: idp.issuer, audience: host.url, key: idp.keys.active });
      const opener = await forge.valid();
      presented.push(opener);
      sessionId = await openLegacySession(host, { authorization: `Bearer ${opener}` });
    });

    afterAll(async () => {
      await host?.stop();
      await upstream?.stop();
      await rogue?.stop();
      await idp?.stop();
    });

    const metadataUrl = () => `${host.baseUrl}/.well-known/oauth-protected-resource/mcp`;

    /** The 2026-07-28 call and the legacy call on alice's session, with `token` as the bearer when given. */
    const calls = async (token?: string): Promise<Answers> => {
      if (token !== undefined) presented.push(token);
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      const params = { name: WEATHER.tool, arguments: { city: 'Oslo' } };
      const modern = await postModern(host, { id: 'hostile', method: 'tools/call', params }, headers);
      const legacy = await postLegacy(
        host,
        { jsonrpc: '2.0', id: 'hostile', method: 'tools/call', params },
        sessionId,
        headers,
      );
      return { modern, legacy };
    };

    /** Runs `request` and asserts the upstream received nothing meanwhile. */
    const upstreamUntouched = async <T>(request: () => Promise<T>): Promise<T> => {
      const [messages, exchanges] = [upstream.requests.length, upstream.httpRequests.length];
      const answer = await request();
      // Let a request that did get through finish at the upstream before looking.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(upstream.requests.slice(messages)).toEqual([]);
      expect(upstream.httpRequests.slice(exchanges)).toEqual([]);
      return answer;
    };

    /** Both answers: `status`, a JSON-RPC error `code` with id null, and a challenge matching `challenge`. */
    const expectRefusals = (answers: Answers, status: number, code: number, challenge: RegExp | string) => {
      for (const [era, answer] of Object.entries(answers) as Array<[string, Answer]>) {
        const [error] = responsesOf(answer.messages);
        expect({ era, status: answer.status, error }).toEqual({
          era,
          status,
          error: expect.objectContaining({ jsonrpc: '2.0', id: null, error: expect.objectContaining({ code }) }),
        });
        if (typeof challenge === 'string') expect(answer.headers['www-authenticate']).toBe(challenge);
        else expect(answer.headers['www-authenticate']).toMatch(challenge);
      }
    };

    const expectServed = (answers: Answers) => {
      for (const [era, answer] of Object.entries(answers) as Array<[string, Answer]>) {
        const result = JSON.stringify(responsesOf(answer.messages)[0]?.['result']);
        expect({ era, status: answer.status, result }).toEqual({
          era,
          status: 200,
          result: expect.stringContaining('sunny in Oslo'),
        });
      }
    };

    const invalidTokenChallenge = () =>
      new RegExp(
        `^Bearer resource_metadata="${escape(metadataUrl())}", error="invalid_token", error_description="[^"]+"$`,
      );

    it('forwards the controls: a valid token with the required scope reaches the upstream in both eras', async () => {
      const before = upstream.requests.filter((request) => request.method === 'tools/call').length;
      const routedBefore = await routedByEnvoy(host, WEATHER.name);
      expectServed(await calls(await forge.valid()));
      expect(upstream.requests.filter((request) => request.method === 'tools/call').length - before).toBe(2);
      // Behind Envoy, the legacy call on a session went from the router straight to the upstream.
      if (routedBefore !== undefined) expect(await routedByEnvoy(host, WEATHER.name)).toBeGreaterThan(routedBefore);
    });

    it('forwards a token the provider issued to alice with the required scope', async () => {
      const alice = await idp.userToken({ account: 'alice', resource: host.url, scope: `mcp:tools ${REQUIRED_SCOPE}` });
      expectServed(await calls(alice.accessToken));
    });

    it('answers a request without a token with 401 and a challenge naming the metadata, without an error', async () => {
      const answers = await upstreamUntouched(() => calls());
      expectRefusals(answers, 401, -32001, `Bearer resource_metadata="${metadataUrl()}"`);
    });

    it('answers GET and DELETE of /mcp without a token with the same 401', async () => {
      for (const method of ['GET', 'DELETE']) {
        const answer = await upstreamUntouched(() =>
          host.fetch({
            method,
            headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
          }),
        );
        expect({ method, status: answer.status }).toEqual({ method, status: 401 });
        expect(answer.headers['www-authenticate']).toBe(`Bearer resource_metadata="${metadataUrl()}"`);
      }
    });

    it.each(INVALID_TOKENS)('answers $name with 401 invalid_token and forwards nothing', async ({ token }) => {
      const answers = await upstreamUntouched(async () => calls(await token(forge)));
      expectRefusals(answers, 401, -32001, invalidTokenChallenge());
    });

    it(`answers a token of 32 KiB with ${oversized.status}${oversized.because ? ` (${oversized.because})` : ''}`, async () => {
      const token = await forge.oversized(32 * KIB);
      const answers = await upstreamUntouched(() => calls(token));
      if (oversized.status === 401) expectRefusals(answers, 401, -32001, invalidTokenChallenge());
      else expect([answers.modern.status, answers.legacy.status]).toEqual([oversized.status, oversized.status]);
    });

    it(`answers bob's token, which lacks ${REQUIRED_SCOPE}, with 403 insufficient_scope naming the scope`, async () => {
      const bob = await idp.userToken({ account: 'bob', resource: host.url, scope: `mcp:tools ${REQUIRED_SCOPE}` });
      expect(bob.scope).toBe('mcp:tools');
      const answers = await upstreamUntouched(() => calls(bob.accessToken));
      expectRefusals(
        answers,
        403,
        -32003,
        new RegExp(
          `^Bearer resource_metadata="${escape(metadataUrl())}", error="insufficient_scope", error_description="[^"]+", scope="${REQUIRED_SCOPE}"$`,
        ),
      );
    });

    it('answers a token whose iss and jku name a rogue issuer with 401 and never contacts it', async () => {
      const answers = await upstreamUntouched(async () => calls(await rogue.token(host.url)));
      expectRefusals(answers, 401, -32001, invalidTokenChallenge());
      expect(rogue.hits()).toBe(0);
    });

    it('survives a token of 1 MiB (the front refuses it) and serves the next valid request', async () => {
      const token = await forge.oversized();
      const statuses = await upstreamUntouched(() => calls(token)).then(
        ({ modern, legacy }) => [modern.status, legacy.status],
        (error: unknown) => `connection closed (${String((error as Error).cause ?? error)})`,
      );
      expect([[431, 431], expect.stringMatching(/^connection closed/)]).toContainEqual(statuses);
      expectServed(await calls(await forge.valid()));
    });

    it('writes none of the presented tokens to its logs, audit records included', async () => {
      expect(presented.length).toBeGreaterThan(10);
      const logs = host.logs();
      // The controls' calls were audited, with the verified caller: the check below reads real records.
      expect(logs).toMatch(/"event":"audit".*"outcome":"allowed".*"caller":\{"issuer":"[^"]+","subject":"alice"/);
      for (const token of presented) {
        // The payload and the signature, each unique to its token (the header is shared).
        for (const part of token.split('.').slice(1)) {
          if (part.length >= 16) expect(logs.includes(part.slice(0, 64))).toBe(false);
        }
      }
    });
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
