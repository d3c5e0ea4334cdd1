// The gateway as the OAuth client of upstreams that want their own login (issue 15, item 3) end
// to end in one host. Two real OpenID providers: the gateway's own (the users' MCP tokens and the
// /tokens pages' login) and a second one, the upstreams' authorization server. Each whoami
// upstream answers a call without a token of the second provider for itself 401 naming its
// protected resource metadata (RFC 9728), and serves the gateway's own list and health on its
// service credential. A user's call is elicited with the gateway's /tokens link; the browser
// signs in at the gateway (provider 1), is sent to provider 2, signs in and consents there, and
// the callback stores the token; the retry reaches the upstream with it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { startWhoamiUpstream, type Caller, type WhoamiUpstream } from '../harness/index.ts';
import { callerSeen, connectUser, elicitationOf, type ClientEra, type UserClient } from './credential-clients.ts';
import {
  credentialConfig,
  newEncryptionKey,
  registerLoginClient,
  registerUpstreamClient,
  type CredentialServer,
} from './credential-config.ts';
import {
  routedByEnvoy,
  startCredentialHost,
  type CredentialHost,
  type CredentialHostKind,
} from './credential-hosts.ts';
import { browserOf, CALLER_SCOPE, CREDENTIAL_ACCOUNTS } from './paste-flow.ts';

/** The upstreams: tracker (the gateway registers itself), wiki (a client configured), notes (opened only with provider 2 down). */
const TRACKER = { name: 'tracker', prefix: 't_', tool: 't_whoami' } as const;
const WIKI = { name: 'wiki', prefix: 'w_', tool: 'w_whoami' } as const;
const NOTES = { name: 'notes', prefix: 'n_', tool: 'n_whoami' } as const;
/** The gateway's own Authorization at the upstreams (list, health). */
const SERVICE = 'Bearer upstream-service-credential';
/** Provider 2's access token lifetime in the refresh test, in seconds. */
const SHORT_TTL = 5;
const DEFAULT_TTL = 300;

/** The upstream OAuth suite against the host of `kind`. */
export function describeUpstreamOAuth(kind: CredentialHostKind): void {
  describe(`an upstream with its own OAuth in the ${kind}`, () => {
    /** The gateway's identity provider. */
    let idp: RunningOidcProvider;
    /** The upstreams' own authorization server. */
    let upstreamAs: RunningOidcProvider;
    const upstreams: Record<string, WhoamiUpstream> = {};
    let wikiClient: { clientId: string; clientSecret: string };
    let host: CredentialHost;

    /** An upstream that serves only tokens of provider 2 whose audience is itself (and its service credential). */
    const startProtected = async () => {
      let self = '';
      const upstream = await startWhoamiUpstream({
        jwksUri: upstreamAs.jwksUri,
        serviceCredential: SERVICE,
        protectedResource: { authorizationServers: [upstreamAs.issuer], scopes: [CALLER_SCOPE] },
        requireUserToken: (caller) => isTokenFor(caller, upstreamAs.issuer, self),
      });
      self = upstream.url;
      return upstream;
    };

    beforeAll(async () => {
      idp = await startOidcProvider({ accounts: CREDENTIAL_ACCOUNTS });
      upstreamAs = await startOidcProvider({ accounts: CREDENTIAL_ACCOUNTS, accessTokenTtl: DEFAULT_TTL });
      for (const { name } of [TRACKER, WIKI, NOTES]) upstreams[name] = await startProtected();
      const server = (
        entry: typeof TRACKER | typeof WIKI | typeof NOTES,
        upstreamOAuth: CredentialServer['upstreamOAuth'],
      ) => ({
        name: entry.name,
        url: upstreams[entry.name]!.url,
        prefix: entry.prefix,
        credential: SERVICE,
        upstreamOAuth,
      });
      host = await startCredentialHost(kind, {
        servers: [server(TRACKER, {}), server(WIKI, {}), server(NOTES, {})],
        env: { CREDENTIAL_ENCRYPTION_KEYS: newEncryptionKey() },
        config: async (address) => {
          wikiClient = await registerUpstreamClient(upstreamAs, address.origins);
          return credentialConfig({
            servers: [server(TRACKER, {}), server(WIKI, { ...wikiClient }), server(NOTES, {})],
            oauth: { issuer: idp.issuer, audience: address.url },
            login: await registerLoginClient(idp, address.origins),
          });
        },
      });
    });

    afterAll(async () => {
      await host?.stop();
      for (const upstream of Object.values(upstreams)) await upstream.stop();
      await upstreamAs?.stop();
      await idp?.stop();
    });

    const gatewayToken = async (account: string) =>
      (await idp.userToken({ account, resource: host.url, scope: CALLER_SCOPE })).accessToken;
    const connect = async (account: string, era: ClientEra = 'legacy') =>
      connectUser(host.url, await gatewayToken(account), { era });
    const toolCallsAt = (name: string) =>
      upstreams[name]!.requests.filter((request) => request.method === 'tools/call').length;
    const hostsOfGateway = () => new Set([new URL(host.baseUrl).host, ...host.publicHosts]);
    const requestsSince = (provider: RunningOidcProvider, from: number) =>
      provider
        .requests()
        .slice(from)
        .map((request) => `${request.method} ${request.path}`);

    /** The token of provider 2 for `account` that `name` expects: verified there, its own audience. */
    const tokenOf = (name: string, account: string) => ({
      kind: 'jwt',
      verified: true,
      iss: upstreamAs.issuer,
      sub: account,
      aud: upstreams[name]!.url,
    });

    /** The Authorization `name` last received on a served call of `sub`'s (the token the gateway holds for them). */
    const lastAuthorizationOf = (name: string, sub: string) =>
      upstreams[name]!.requests.findLast(
        (request) =>
          request.method === 'tools/call' &&
          request.status !== 401 &&
          request.caller.kind === 'jwt' &&
          request.caller.sub === sub,
      )?.authorization ?? '';

    /**
     * Calls `tool` as `client`'s user; when elicited, `account` opens the link in a browser (the
     * gateway's login, provider 2's login and consent) and the client calls again. The caller the
     * upstream saw on the call that reached it.
     */
    const authorizeAndCall = async (client: UserClient, tool: string, account: string) => {
      const first = await client.call(tool);
      if (first.kind === 'elicitation') {
        const done = await browserOf(host, account).open(elicitationOf(first).elicitations[0]!.url);
        expect({ path: done.url.pathname, status: done.status, text: done.text.slice(0, 300) }).toEqual({
          path: '/tokens/oauth/callback',
          status: 200,
          text: expect.stringContaining('Authorized'),
        });
      }
      return callerSeen(first.kind === 'elicitation' ? await client.call(tool) : first);
    };

    it("elicits alice's first call with the gateway's /tokens link; in the browser she signs in at the gateway and at the upstream's server, and her retry carries that server's token for her", async () => {
      const client = await connect('alice');
      try {
        const elicited = elicitationOf(await client.call(TRACKER.tool));
        expect(elicited.sdkError).toBe(true);
        expect(elicited.elicitations).toHaveLength(1);
        const link = new URL(elicited.elicitations[0]!.url);
        expect({ path: link.pathname, id: link.searchParams.get('elicitation_id') }).toEqual({
          path: '/tokens',
          id: elicited.elicitations[0]!.elicitationId,
        });
        expect(hostsOfGateway().has(link.host)).toBe(true);
        expect(toolCallsAt(TRACKER.name)).toBe(0);

        const [gatewayFrom, upstreamFrom] = [idp.requests().length, upstreamAs.requests().length];
        const done = await browserOf(host, 'alice').open(link);
        expect({ path: done.url.pathname, status: done.status }).toEqual({
          path: '/tokens/oauth/callback',
          status: 200,
        });
        expect(done.text).toContain('Authorized');
        // The gateway's login at provider 1, then provider 2: registration (no client configured),
        // authorization (its login and consent pages), the code redeemed.
        expect(requestsSince(idp, gatewayFrom)).toContain('GET /auth');
        const atUpstreamAs = requestsSince(upstreamAs, upstreamFrom);
        expect(atUpstreamAs).toEqual(expect.arrayContaining(['POST /reg', 'GET /auth', 'POST /token']));
        const codeGrants = upstreamAs.grants().filter((grant) => grant.grantType === 'authorization_code');
        expect(codeGrants).toHaveLength(1);
        expect(done.text).not.toMatch(/Bearer|eyJ/);

        const routedBefore = await routedByEnvoy(host, TRACKER.name);
        const retried = await client.call(TRACKER.tool);
        expect(retried).toMatchObject({ kind: 'result', isError: false, caller: tokenOf(TRACKER.name, 'alice') });
        if (routedBefore !== undefined) {
          // Behind Envoy the router routed the call to the upstream itself, the token set on it.
          expect(await routedByEnvoy(host, TRACKER.name)).toBeGreaterThan(routedBefore);
        }
      } finally {
        await client.close();
      }
    });

    it("elicits bob's first call although alice has a token, and reaches the upstream with his own on a 2026-07-28 client", async () => {
      const alices = lastAuthorizationOf(TRACKER.name, 'alice');
      expect(alices).toMatch(/^Bearer /);
      const bob = await connect('bob', 'modern');
      try {
        const before = toolCallsAt(TRACKER.name);
        const first = await bob.call(TRACKER.tool);
        expect(first.kind).toBe('elicitation');
        expect(toolCallsAt(TRACKER.name)).toBe(before);
        const done = await browserOf(host, 'bob').open(elicitationOf(first).elicitations[0]!.url);
        expect({ path: done.url.pathname, status: done.status }).toEqual({
          path: '/tokens/oauth/callback',
          status: 200,
        });
        expect(callerSeen(await bob.call(TRACKER.tool))).toMatchObject(tokenOf(TRACKER.name, 'bob'));
      } finally {
        await bob.close();
      }
      const bobs = lastAuthorizationOf(TRACKER.name, 'bob');
      expect(bobs).toMatch(/^Bearer /);
      expect(bobs).not.toBe(alices);
      const alice = await connect('alice', 'modern');
      try {
        expect(callerSeen(await alice.call(TRACKER.tool))).toMatchObject(tokenOf(TRACKER.name, 'alice'));
      } finally {
        await alice.close();
      }
    });

    it('authorizes as the client configured for the wiki: no registration, the code redeemed by that client', async () => {
      const client = await connect('alice');
      try {
        const registrations = upstreamAs.requests().filter((request) => request.path === '/reg').length;
        const grantsFrom = upstreamAs.grants().length;
        expect(await authorizeAndCall(client, WIKI.tool, 'alice')).toMatchObject(tokenOf(WIKI.name, 'alice'));
        expect(upstreamAs.requests().filter((request) => request.path === '/reg').length).toBe(registrations);
        expect(upstreamAs.grants().slice(grantsFrom)).toEqual([
          { grantType: 'authorization_code', clientId: wikiClient.clientId },
        ]);
      } finally {
        await client.close();
      }
    });

    it("refreshes carol's token once it expires, without asking her: provider 2 sees a refresh grant and the upstream a new token", async () => {
      upstreamAs.setAccessTokenTtl(SHORT_TTL);
      const client = await connect('carol');
      try {
        const first = await authorizeAndCall(client, TRACKER.tool, 'carol');
        expect(first).toMatchObject(tokenOf(TRACKER.name, 'carol'));
        const issued = lastAuthorizationOf(TRACKER.name, 'carol');
        const exp = (first as { exp: number }).exp;
        expect(exp * 1000 - Date.now()).toBeLessThanOrEqual(SHORT_TTL * 1000);
        // Past the token's expiry and the gateway's own reckoning of it (from when it got the token).
        await new Promise((resolve) => setTimeout(resolve, exp * 1000 + 2_000 - Date.now()));
        const grantsFrom = upstreamAs.grants().length;
        const again = await client.call(TRACKER.tool);
        expect(again).toMatchObject({ kind: 'result', isError: false, caller: tokenOf(TRACKER.name, 'carol') });
        const refreshed = lastAuthorizationOf(TRACKER.name, 'carol');
        expect(refreshed).not.toBe(issued);
        expect(
          upstreamAs
            .grants()
            .slice(grantsFrom)
            .map((grant) => grant.grantType),
        ).toEqual(['refresh_token']);
        expect((callerSeen(again) as { exp: number }).exp).toBeGreaterThan(exp);
      } finally {
        upstreamAs.setAccessTokenTtl(DEFAULT_TTL);
        await client.close();
      }
    }, 30_000);

    it("elicits alice's next call again once the upstream answers her stored token 401", async () => {
      const client = await connect('alice');
      try {
        expect(await authorizeAndCall(client, TRACKER.tool, 'alice')).toMatchObject(tokenOf(TRACKER.name, 'alice'));
        const stored = lastAuthorizationOf(TRACKER.name, 'alice');
        expect(stored).toMatch(/^Bearer /);
        const tracker = upstreams[TRACKER.name]!;
        // The upstream revokes it: anything carrying it is answered 401.
        tracker.setRequireUserToken(
          (caller, authorization) => authorization !== stored && isTokenFor(caller, upstreamAs.issuer, tracker.url),
        );
        try {
          await client.call(TRACKER.tool);
          const again = await client.call(TRACKER.tool);
          expect(again.kind).toBe('elicitation');
        } finally {
          tracker.setRequireUserToken((caller) => isTokenFor(caller, upstreamAs.issuer, tracker.url));
        }
        expect(
          tracker.requests.filter((request) => request.authorization === stored && request.status === 401),
        ).toHaveLength(1);
        // Authorized again, her calls go through with a new token.
        expect(await authorizeAndCall(client, TRACKER.tool, 'alice')).toMatchObject(tokenOf(TRACKER.name, 'alice'));
        expect(lastAuthorizationOf(TRACKER.name, 'alice')).not.toBe(stored);
      } finally {
        await client.close();
      }
    });

    // Last: it stops provider 2.
    it("answers erin's link with an error naming the server when the upstream's authorization server is down, storing nothing", async () => {
      const client = await connect('erin');
      try {
        const elicited = elicitationOf(await client.call(NOTES.tool));
        await upstreamAs.stop();
        const browser = browserOf(host, 'erin');
        const page = await browser.open(elicited.elicitations[0]!.url);
        expect(page.url.pathname).toBe('/tokens');
        expect({ status: page.status, json: page.json }).toEqual({
          status: 502,
          json: { error: expect.stringContaining('server notes') },
        });
        const list = await browser.open('/tokens');
        expect(list.status).toBe(200);
        expect(list.text).not.toContain(NOTES.name);
        expect((await client.call(NOTES.tool)).kind).toBe('elicitation');
        expect(toolCallsAt(NOTES.name)).toBe(0);
      } finally {
        await client.close();
      }
    });
  });
}

/** Whether `caller` is a verified token of `issuer` whose audience is `resource`. */
function isTokenFor(caller: Caller, issuer: string, resource: string): boolean {
  if (caller.kind !== 'jwt' || !caller.verified || caller.iss !== issuer) return false;
  return Array.isArray(caller.aud) ? caller.aud.includes(resource) : caller.aud === resource;
}
