// The hostile token table (issue 12, item 2), one suite run against each host: the broker
// (hostile-tokens-broker.test.ts), the router behind a real Envoy (hostile-tokens-router.test.ts)
// and the worker (hostile-tokens-worker.test.ts). Every token is sent with a 2026-07-28 tools/call,
// a request that the same host forwards to the upstream for a valid token (the control), so "the
// upstream saw nothing" is a real difference. The host requires the scope mcp:admin, which bob
// never gets. At the end: no presented token in the host's logs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responsesOf, type Answer } from '../attacker/answers.ts';
import { postModern } from '../attacker/http-hosts.ts';
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
  startIdentityHost,
  startWeatherUpstream,
  WEATHER,
  weatherServer,
  type HostKind,
  type IdentityHost,
} from './identity-hosts.ts';

const REQUIRED_SCOPE = 'mcp:admin';
const KIB = 1024;

/** A token that must be refused: how it is made, and the error of the challenge it gets. */
interface HostileCase {
  readonly name: string;
  token(forge: TokenForge, host: IdentityHost): Promise<string> | string;
}

const INVALID_TOKENS: readonly HostileCase[] = [
  { name: 'an expired token', token: (forge) => forge.expired() },
  { name: 'a token for another audience', token: (forge) => forge.wrongAudience() },
  { name: 'a token naming an untrusted issuer', token: (forge) => forge.wrongIssuer() },
  { name: 'an unsigned token (alg none)', token: (forge) => forge.algNone() },
  { name: "a token signed by a foreign key under the provider's kid", token: (forge) => forge.foreignKey() },
  { name: 'an HS256 token keyed with the public key', token: (forge) => forge.hmacWithPublicKey() },
  { name: 'a token without sub', token: (forge) => forge.missingSub() },
  { name: 'a token not valid yet', token: (forge) => forge.notYetValid() },
];

/** What the host answers a request whose token is over 16 KiB but under the front's header limit. */
export interface OversizedAnswer {
  readonly status: 401 | 431;
  /** Why, when not the gateway's own 401. */
  readonly because?: string;
}

export function describeHostileTokens(kind: HostKind, oversized: OversizedAnswer): void {
  describe(`hostile tokens through the ${kind}`, () => {
    let idp: RunningOidcProvider;
    let rogue: RogueIssuer;
    let upstream: SdkUpstream;
    let host: IdentityHost;
    let forge: TokenForge;
    /** Every token presented, to look for in the logs at the end. */
    const presented: string[] = [];

    beforeAll(async () => {
      idp = await startOidcProvider();
      rogue = await startRogueIssuer();
      upstream = await startWeatherUpstream();
      host = await startIdentityHost(kind, {
        servers: [weatherServer(upstream)],
        oauth: { issuers: [idp.issuer], requiredScopes: [REQUIRED_SCOPE] },
      });
      forge = createTokenForge({ issuer: idp.issuer, audience: host.url, key: idp.keys.active });
    });

    afterAll(async () => {
      await host?.stop();
      await upstream?.stop();
      await rogue?.stop();
      await idp?.stop();
    });

    const metadataUrl = () => `${host.baseUrl}/.well-known/oauth-protected-resource/mcp`;

    /** A 2026-07-28 tools/call of the weather tool, with `token` as the bearer when given. */
    const call = (token?: string): Promise<Answer> => {
      if (token !== undefined) presented.push(token);
      return postModern(
        host,
        { id: 'hostile', method: 'tools/call', params: { name: WEATHER.tool, arguments: { city: 'Oslo' } } },
        token === undefined ? {} : { authorization: `Bearer ${token}` },
      );
    };

    /** Runs `request` and asserts the upstream received nothing meanwhile. */
    const upstreamUntouched = async (request: () => Promise<Answer>): Promise<Answer> => {
      const [messages, exchanges] = [upstream.requests.length, upstream.httpRequests.length];
      const answer = await request();
      // Let a request that did get through finish at the upstream before looking.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(upstream.requests.slice(messages)).toEqual([]);
      expect(upstream.httpRequests.slice(exchanges)).toEqual([]);
      return answer;
    };

    const expectRefusal = (answer: Answer, status: number, code: number) => {
      expect(answer.status).toBe(status);
      const [error] = responsesOf(answer.messages);
      expect(error).toMatchObject({ jsonrpc: '2.0', id: null, error: { code } });
    };

    it('forwards the control: a valid token for this gateway with the required scope reaches the upstream', async () => {
      const answer = await call(await forge.valid());
      expect(answer.status).toBe(200);
      expect(JSON.stringify(responsesOf(answer.messages)[0]?.['result'])).toContain('sunny in Oslo');
      const calls = upstream.requests.filter((request) => request.method === 'tools/call');
      expect(calls.length).toBeGreaterThanOrEqual(1);
    });

    it('forwards a token the provider issued to alice with the required scope', async () => {
      const alice = await idp.userToken({ account: 'alice', resource: host.url, scope: `mcp:tools ${REQUIRED_SCOPE}` });
      const answer = await call(alice.accessToken);
      expect(answer.status).toBe(200);
    });

    it('answers a request without a token with 401 and a challenge naming the metadata, without an error', async () => {
      const answer = await upstreamUntouched(() => call());
      expectRefusal(answer, 401, -32001);
      expect(answer.headers['www-authenticate']).toBe(`Bearer resource_metadata="${metadataUrl()}"`);
    });

    it('answers GET and DELETE of /mcp without a token with the same 401', async () => {
      for (const method of ['GET', 'DELETE']) {
        const answer = await upstreamUntouched(() =>
          host.fetch({ method, headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2025-11-25' } }),
        );
        expect({ method, status: answer.status }).toEqual({ method, status: 401 });
        expect(answer.headers['www-authenticate']).toBe(`Bearer resource_metadata="${metadataUrl()}"`);
      }
    });

    it.each(INVALID_TOKENS)('answers $name with 401 invalid_token and forwards nothing', async ({ token }) => {
      const answer = await upstreamUntouched(async () => call(await token(forge, host)));
      expectRefusal(answer, 401, -32001);
      expect(answer.headers['www-authenticate']).toMatch(
        new RegExp(
          `^Bearer resource_metadata="${escape(metadataUrl())}", error="invalid_token", error_description="[^"]+"$`,
        ),
      );
    });

    it(`answers a token of 32 KiB with ${oversized.status}${oversized.because ? ` (${oversized.because})` : ''}`, async () => {
      const token = await forge.oversized(32 * KIB);
      const answer = await upstreamUntouched(() => call(token));
      expect(answer.status).toBe(oversized.status);
      if (oversized.status === 401) {
        expect(answer.headers['www-authenticate']).toContain('error="invalid_token"');
      }
    });

    it(`answers bob's token, which lacks ${REQUIRED_SCOPE}, with 403 insufficient_scope naming the scope`, async () => {
      const bob = await idp.userToken({ account: 'bob', resource: host.url, scope: `mcp:tools ${REQUIRED_SCOPE}` });
      expect(bob.scope).toBe('mcp:tools');
      const answer = await upstreamUntouched(() => call(bob.accessToken));
      expectRefusal(answer, 403, -32003);
      expect(answer.headers['www-authenticate']).toMatch(
        new RegExp(
          `^Bearer resource_metadata="${escape(metadataUrl())}", error="insufficient_scope", error_description="[^"]+", scope="${REQUIRED_SCOPE}"$`,
        ),
      );
    });

    it('answers a token whose iss and jku name a rogue issuer with 401 and never contacts it', async () => {
      const answer = await upstreamUntouched(async () => call(await rogue.token(host.url)));
      expectRefusal(answer, 401, -32001);
      expect(answer.headers['www-authenticate']).toContain('error="invalid_token"');
      expect(rogue.hits()).toBe(0);
    });

    it('survives a token of 1 MiB (the front refuses it) and serves the next valid request', async () => {
      const token = await forge.oversized();
      const status = await upstreamUntouched(() => call(token)).then(
        (answer) => answer.status,
        (error: unknown) => `connection closed (${String((error as Error).cause ?? error)})`,
      );
      expect([431, expect.stringMatching(/^connection closed/)]).toContainEqual(status);
      const next = await call(await forge.valid());
      expect(next.status).toBe(200);
    });

    it('writes none of the presented tokens to its logs', async () => {
      expect(presented.length).toBeGreaterThan(10);
      const logs = host.logs();
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
