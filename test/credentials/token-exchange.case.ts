// OAuth 2.0 token exchange to an upstream end to end (issue 15, item 2) in one host: the caller's
// token, verified by the gateway, traded at the real OpenID provider (its exchangeClient) for one
// whose audience is the upstream; the whoami upstream verifies what it receives against the
// provider's JWKS and that audience. Real SDK clients of both eras.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { startWhoamiUpstream, type WhoamiUpstream } from '../harness/index.ts';
import { callerSeen, callOnce, textOf } from './credential-clients.ts';
import { credentialConfig, newEncryptionKey, tokenEndpointOf } from './credential-config.ts';
import {
  routedByEnvoy,
  startCredentialHost,
  type CredentialHost,
  type CredentialHostKind,
} from './credential-hosts.ts';
import { CALLER_SCOPE, CREDENTIAL_ACCOUNTS } from './paste-flow.ts';

const TRACKER = { name: 'tracker', prefix: 't_', tool: 't_whoami' } as const;
const SERVICE = 'Bearer tracker-service-credential';

/** The token exchange suite against the host of `kind`. */
export function describeTokenExchange(kind: CredentialHostKind): void {
  describe(`token exchange in the ${kind}`, () => {
    let idp: RunningOidcProvider;
    let upstream: WhoamiUpstream;
    let host: CredentialHost;
    /** The audience the upstream is configured with, and checks: its own URL (a resource indicator). */
    let audience: string;

    beforeAll(async () => {
      idp = await startOidcProvider({ accounts: CREDENTIAL_ACCOUNTS });
      // The upstream's URL is its audience; it is known once it listens, so the audience check is
      // made here by comparing the claims whoami reports (and the signature by its JWKS).
      upstream = await startWhoamiUpstream({ jwksUri: idp.jwksUri, serviceCredential: SERVICE });
      audience = upstream.url;
      const tokenEndpoint = await tokenEndpointOf(idp);
      const servers = [
        {
          name: TRACKER.name,
          url: upstream.url,
          prefix: TRACKER.prefix,
          credential: SERVICE,
          tokenExchange: {
            tokenEndpoint,
            clientId: idp.exchangeClient.clientId,
            clientSecret: idp.exchangeClient.clientSecret,
            audience,
            scopes: [CALLER_SCOPE],
          },
        },
      ];
      host = await startCredentialHost(kind, {
        servers,
        urlElicitation: false,
        env: { CREDENTIAL_ENCRYPTION_KEYS: newEncryptionKey() },
        config: (address) => credentialConfig({ servers, oauth: { issuer: idp.issuer, audience: address.url } }),
      });
    });

    afterAll(async () => {
      await host?.stop();
      await upstream?.stop();
      await idp?.stop();
    });

    const tokenOf = async (account: string) => idp.userToken({ account, resource: host.url, scope: CALLER_SCOPE });
    const toolCalls = () => upstream.requests.filter((request) => request.method === 'tools/call').length;
    const exchangesOf = (subject: string) => idp.exchanges().filter((exchange) => exchange.subject === subject);

    it("reaches the upstream with a token exchanged for alice: verified, the upstream's audience, her subject", async () => {
      const alice = await tokenOf('alice');
      const routedBefore = await routedByEnvoy(host, TRACKER.name);
      const caller = callerSeen(await callOnce(host.url, alice.accessToken, TRACKER.tool));
      expect(caller).toEqual({
        kind: 'jwt',
        verified: true,
        iss: idp.issuer,
        sub: 'alice',
        aud: audience,
        exp: expect.any(Number),
      });
      const exp = (caller as { exp: number }).exp;
      expect(exp * 1000).toBeGreaterThan(Date.now());
      // The upstream never saw the caller's own token (whose audience is the gateway).
      expect(upstream.authorizations('tools/call').has(`Bearer ${alice.accessToken}`)).toBe(false);
      expect(exchangesOf('alice')).toEqual([{ clientId: idp.exchangeClient.clientId, subject: 'alice', audience }]);
      if (routedBefore !== undefined) {
        expect(await routedByEnvoy(host, TRACKER.name)).toBeGreaterThan(routedBefore);
      }
    });

    it('reaches it as bob for bob, on a 2026-07-28 client', async () => {
      const bob = await tokenOf('bob');
      expect(callerSeen(await callOnce(host.url, bob.accessToken, TRACKER.tool, { era: 'modern' }))).toMatchObject({
        kind: 'jwt',
        verified: true,
        sub: 'bob',
        aud: audience,
      });
    });

    it("does not exchange again for alice's next calls while the exchanged token is fresh", async () => {
      const before = exchangesOf('alice').length;
      const alice = await tokenOf('alice');
      const call = async (era: 'legacy' | 'modern') =>
        expect(callerSeen(await callOnce(host.url, alice.accessToken, TRACKER.tool, { era }))).toMatchObject({
          sub: 'alice',
          verified: true,
        });
      await call('legacy');
      const afterFirst = exchangesOf('alice').length;
      expect(afterFirst).toBeGreaterThanOrEqual(1);
      expect(afterFirst).toBeLessThanOrEqual(before + 1);
      await call('modern');
      await call('legacy');
      expect(exchangesOf('alice').length).toBe(afterFirst);
    });

    // Last: it stops the provider.
    it("fails carol's call with an error naming the server when the authorization server is down, forwarding nothing", async () => {
      const carol = await tokenOf('carol');
      // The gateway has the provider's keys cached from the calls above, so carol's own token
      // still verifies; only the exchange cannot be made.
      await idp.stop();
      const before = toolCalls();
      const outcome = await callOnce(host.url, carol.accessToken, TRACKER.tool);
      expect(outcome.kind === 'error' || (outcome.kind === 'result' && outcome.isError)).toBe(true);
      expect(textOf(outcome)).toMatch(/token exchange for server tracker failed/);
      expect(textOf(outcome)).not.toContain(carol.accessToken);
      expect(toolCalls()).toBe(before);
      const carols = upstream.requests.filter(
        (request) =>
          request.authorization === `Bearer ${carol.accessToken}` ||
          (request.caller.kind === 'jwt' && request.caller.sub === 'carol'),
      );
      expect(carols).toEqual([]);
    });
  });
}
