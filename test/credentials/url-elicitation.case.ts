// URL elicitation end to end (issue 15, item 1) in one host: a server with `tokenURLElicitation: {}`
// behind a gateway with `--enable-url-elicitation` and token verification at the real OpenID
// provider; real SDK clients of both eras; the /tokens pages driven as a browser drives them (no
// script on them), signing in at the provider through the gateway's login redirect; the whoami
// upstream saying whose token each call carried.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { startWhoamiUpstream, type WhoamiUpstream } from '../harness/index.ts';
import { callOnce, connectUser, elicitationOf, type ClientEra } from './credential-clients.ts';
import { credentialConfig, newEncryptionKey, registerLoginClient } from './credential-config.ts';
import {
  routedByEnvoy,
  startCredentialHost,
  type CredentialHost,
  type CredentialHostKind,
} from './credential-hosts.ts';
import { formsOf } from './token-page.ts';
import { pollUntil } from '../harness/poll.ts';
import {
  browserOf,
  callWithPastedToken,
  CALLER_SCOPE,
  CREDENTIAL_ACCOUNTS,
  pasteAt,
  upstreamTokenOf,
} from './paste-flow.ts';

/** The upstream's config name, its prefix and the gateway's name of its whoami tool. */
const TRACKER = { name: 'tracker', prefix: 't_', tool: 't_whoami' } as const;
/** The gateway's own Authorization at the upstream (its list and health checks). */
const SERVICE = 'Bearer tracker-service-credential';
const NO_ELICITATION = 'upstream server requires a per-user token but client does not support elicitation';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The URL elicitation suite against the host of `kind`. */
export function describeUrlElicitation(kind: CredentialHostKind): void {
  describe(`URL elicitation in the ${kind}`, () => {
    let idp: RunningOidcProvider;
    let upstream: WhoamiUpstream;
    let host: CredentialHost;

    beforeAll(async () => {
      idp = await startOidcProvider({ accounts: CREDENTIAL_ACCOUNTS });
      upstream = await startWhoamiUpstream({ jwksUri: idp.jwksUri, serviceCredential: SERVICE });
      const servers = [
        { name: TRACKER.name, url: upstream.url, prefix: TRACKER.prefix, credential: SERVICE, tokenURLElicitation: {} },
      ];
      host = await startCredentialHost(kind, {
        servers,
        env: { CREDENTIAL_ENCRYPTION_KEYS: newEncryptionKey() },
        config: async (address) =>
          credentialConfig({
            servers,
            oauth: { issuer: idp.issuer, audience: address.url },
            login: await registerLoginClient(idp, address.origins),
          }),
      });
    });

    afterAll(async () => {
      await host?.stop();
      await upstream?.stop();
      await idp?.stop();
    });

    const gatewayToken = async (account: string) =>
      (await idp.userToken({ account, resource: host.url, scope: CALLER_SCOPE })).accessToken;
    const upstreamAuthorization = async (account: string) =>
      `Bearer ${await upstreamTokenOf(idp, account, upstream.url)}`;
    const toolCalls = () => upstream.requests.filter((request) => request.method === 'tools/call').length;
    const hostsOfGateway = () => new Set([new URL(host.baseUrl).host, ...host.publicHosts]);

    /** Calls as `account` (storing a pasted token first when the gateway elicits); the caller the upstream saw. */
    const callAs = async (account: string, era: ClientEra = 'legacy', authorization?: string) => {
      const client = await connectUser(host.url, await gatewayToken(account), { era });
      try {
        return await callWithPastedToken({
          client,
          tool: TRACKER.tool,
          host,
          account,
          authorization: authorization ?? (await upstreamAuthorization(account)),
        });
      } finally {
        await client.close();
      }
    };

    it('answers a client that declared no elicitation capability with an isError result naming why', async () => {
      const before = toolCalls();
      const outcome = await callOnce(host.url, await gatewayToken('bob'), TRACKER.tool, { elicitation: false });
      expect(outcome).toMatchObject({ kind: 'result', isError: true, text: expect.stringContaining(NO_ELICITATION) });
      expect(toolCalls()).toBe(before);
    });

    it("elicits alice's first call with the gateway's /tokens page; her retry after pasting there reaches the upstream with her token", async () => {
      const before = toolCalls();
      const client = await connectUser(host.url, await gatewayToken('alice'), { era: 'legacy' });
      try {
        const elicited = elicitationOf(await client.call(TRACKER.tool));
        expect(elicited.sdkError).toBe(true);
        expect(elicited.elicitations).toHaveLength(1);
        const [elicitation] = elicited.elicitations;
        expect(elicitation).toEqual({
          mode: 'url',
          elicitationId: expect.stringMatching(UUID),
          url: expect.any(String),
          message: 'Authorization is required to access this service.',
        });
        const link = new URL(elicitation!.url);
        expect({ path: link.pathname, id: link.searchParams.get('elicitation_id') }).toEqual({
          path: '/tokens',
          id: elicitation!.elicitationId,
        });
        expect(hostsOfGateway().has(link.host)).toBe(true);
        expect(toolCalls()).toBe(before);

        const pasted = await upstreamAuthorization('alice');
        const page = await pasteAt(host, 'alice', elicitation!.url, { authorization: pasted });
        expect(page.status).toBe(200);
        expect(page.text).not.toContain(pasted.slice('Bearer '.length));
        // MCP 2025-11-25: the session that was asked is told the user is done (on its GET stream).
        await pollUntil(
          'notifications/elicitation/complete',
          async () => [...client.completed],
          (ids) => ids.includes(elicitation!.elicitationId),
          5_000,
        );

        const routedBefore = await routedByEnvoy(host, TRACKER.name);
        const retried = await client.call(TRACKER.tool);
        expect(retried).toMatchObject({
          kind: 'result',
          isError: false,
          caller: { kind: 'jwt', verified: true, iss: idp.issuer, sub: 'alice', aud: upstream.url },
        });
        expect(upstream.authorizations('tools/call').get(pasted)).toBe(1);
        if (routedBefore !== undefined) {
          // Behind Envoy the router routed the call to the upstream itself, the token set on it.
          expect(await routedByEnvoy(host, TRACKER.name)).toBeGreaterThan(routedBefore);
        }
      } finally {
        await client.close();
      }
    });

    it("reaches the upstream with bob's own token for bob on a 2026-07-28 client, and with alice's for alice", async () => {
      expect(await callAs('bob', 'modern')).toMatchObject({
        kind: 'jwt',
        verified: true,
        sub: 'bob',
        aud: upstream.url,
      });
      expect(await callAs('alice', 'legacy')).toMatchObject({
        kind: 'jwt',
        verified: true,
        sub: 'alice',
        aud: upstream.url,
      });
      expect(await callAs('bob', 'legacy')).toMatchObject({
        kind: 'jwt',
        verified: true,
        sub: 'bob',
        aud: upstream.url,
      });
      expect(await callAs('alice', 'modern')).toMatchObject({
        kind: 'jwt',
        verified: true,
        sub: 'alice',
        aud: upstream.url,
      });
    });

    it('serves the paste form with a strict CSRF cookie and headers that allow no script, framing or referrer', async () => {
      const elicited = elicitationOf(await callOnce(host.url, await gatewayToken('erin'), TRACKER.tool));
      const page = await browserOf(host, 'erin').open(elicited.elicitations[0]!.url);
      expect(page.status).toBe(200);
      expect({
        csp: page.headers.get('content-security-policy'),
        referrer: page.headers.get('referrer-policy'),
        cache: page.headers.get('cache-control'),
        frame: page.headers.get('x-frame-options'),
      }).toEqual({
        csp: "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
        referrer: 'no-referrer',
        cache: 'no-store',
        frame: 'DENY',
      });
      expect(page.text).not.toMatch(/<script/i);
      const csrf = page.headers.getSetCookie().find((cookie) => cookie.startsWith('csrf='));
      expect(csrf).toBeDefined();
      expect(csrf).toMatch(/;\s*HttpOnly/i);
      expect(csrf).toMatch(/;\s*SameSite=Strict/i);
      expect(csrf).toMatch(/;\s*Path=\/tokens(;|$)/i);
      expect(csrf).toMatch(/;\s*Max-Age=120/i);
      const form = formsOf(page).find((candidate) => candidate.fields.has('elicitation_id'));
      expect(form?.fields.get('elicitation_id')).toBe(elicited.elicitations[0]!.elicitationId);
      expect(form?.fields.get('csrf_token')).toBe(/^csrf=([^;]*)/.exec(csrf!)?.[1]);
      expect(form?.fields.has('token')).toBe(true);
    });

    it("refuses carol's form posted from another origin or without her CSRF token, and dave's post of her form, storing nothing", async () => {
      const elicited = elicitationOf(await callOnce(host.url, await gatewayToken('carol'), TRACKER.tool));
      const url = elicited.elicitations[0]!.url;
      const token = await upstreamAuthorization('carol');
      const carol = browserOf(host, 'carol');
      const form = formsOf(await carol.open(url)).find((candidate) => candidate.fields.has('elicitation_id'))!;

      const crossOrigin = await carol.submit(form, { token }, { origin: 'https://attacker.example' });
      expect({ status: crossOrigin.status, json: crossOrigin.json }).toEqual({
        status: 403,
        json: { error: expect.any(String) },
      });
      const forgedCsrf = await carol.submit(form, { token, csrf_token: 'not-the-cookie' });
      expect([400, 403]).toContain(forgedCsrf.status);
      expect(forgedCsrf.json).toEqual({ error: expect.any(String) });

      const dave = browserOf(host, 'dave');
      const davesPage = await dave.open(url);
      const davesForm = formsOf(davesPage).find((candidate) => candidate.fields.has('elicitation_id'));
      const davesPost =
        davesForm === undefined
          ? davesPage
          : await dave.submit(davesForm, { token: await upstreamAuthorization('dave') });
      expect(davesPost.status).toBe(403);

      const before = toolCalls();
      elicitationOf(await callOnce(host.url, await gatewayToken('carol'), TRACKER.tool));
      elicitationOf(await callOnce(host.url, await gatewayToken('dave'), TRACKER.tool));
      expect(toolCalls()).toBe(before);
    });

    /** The Authorization the upstream last received on a call of `sub`'s (the token the gateway holds for them). */
    const lastAuthorizationOf = (sub: string) =>
      upstream.requests.findLast(
        (request) => request.method === 'tools/call' && request.caller.kind === 'jwt' && request.caller.sub === sub,
      )?.authorization ?? '';

    /**
     * Revokes `account`'s stored token at the upstream (it answers 401 to anything carrying it)
     * while `during` runs; resolves with how many requests it refused.
     */
    const whileRevoked = async (account: string, during: () => Promise<void>) => {
      const stored = lastAuthorizationOf(account);
      expect(stored).toMatch(/^Bearer /);
      upstream.setRequireUserToken((_caller, authorization) => authorization !== stored);
      try {
        await during();
      } finally {
        upstream.setRequireUserToken(undefined);
      }
      return upstream.requests.filter((request) => request.authorization === stored && request.status === 401).length;
    };

    it("drops alice's stored token when the upstream answers her call 401: her next call is elicited again", async () => {
      const client = await connectUser(host.url, await gatewayToken('alice'));
      try {
        const authorization = await upstreamAuthorization('alice');
        const first = await callWithPastedToken({ client, tool: TRACKER.tool, host, account: 'alice', authorization });
        expect(first).toMatchObject({ sub: 'alice', aud: upstream.url });
        // The backend session is open: the revoked token is refused on the call itself.
        const refused = await whileRevoked('alice', async () => {
          await client.call(TRACKER.tool);
          const again = await client.call(TRACKER.tool);
          expect(again.kind).toBe('elicitation');
        });
        expect(refused).toBe(1);
      } finally {
        await client.close();
      }
    });

    it("drops alice's stored token when the upstream refuses it 401 on a new backend session's initialize", async () => {
      expect(await callAs('alice')).toMatchObject({ sub: 'alice', aud: upstream.url });
      const refused = await whileRevoked('alice', async () => {
        await callOnce(host.url, await gatewayToken('alice'), TRACKER.tool);
        const again = await callOnce(host.url, await gatewayToken('alice'), TRACKER.tool);
        expect(again.kind).toBe('elicitation');
      });
      expect(refused).toBe(1);
    });

    it("lists alice's stored server (never the token) on /tokens, removes it there, and her next call is elicited again", async () => {
      expect(await callAs('alice')).toMatchObject({ sub: 'alice', aud: upstream.url });
      const pasted = lastAuthorizationOf('alice');
      expect(pasted).toMatch(/^Bearer /);
      const browser = browserOf(host, 'alice');
      const list = await browser.open('/tokens');
      expect(list.status).toBe(200);
      expect(list.text).toContain(TRACKER.name);
      expect(list.text).not.toContain(pasted.slice('Bearer '.length));
      expect((await browser.removeViaPage(TRACKER.name)).status).toBe(200);
      elicitationOf(await callOnce(host.url, await gatewayToken('alice'), TRACKER.tool));
    });

    it("stores frank's token through the page with his bearer instead of a login, and DELETE /tokens/tracker with it removes it", async () => {
      const bearer = await gatewayToken('frank');
      const client = await connectUser(host.url, bearer);
      try {
        const caller = await callWithPastedToken({
          client,
          tool: TRACKER.tool,
          host,
          account: 'frank',
          authorization: await upstreamAuthorization('frank'),
          identity: { via: 'bearer', accessToken: bearer },
        });
        expect(caller).toMatchObject({ kind: 'jwt', verified: true, sub: 'frank', aud: upstream.url });
      } finally {
        await client.close();
      }
      const removed = await fetch(`${host.baseUrl}/tokens/${TRACKER.name}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${bearer}` },
      });
      expect(removed.status).toBeLessThan(300);
      elicitationOf(await callOnce(host.url, bearer, TRACKER.tool));
    });
  });
}
