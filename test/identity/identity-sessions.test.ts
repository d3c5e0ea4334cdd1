// Sessions bound to the verified identity (issue 12, item 4), in each host: alice's legacy session
// keeps working with a refreshed token (same issuer and subject, another token); bob's valid
// token on alice's session gets 404 and reaches nothing (his DELETE does not end her session);
// a 2026-07-28 caller calling a legacy upstream as alice with two different tokens rides ONE
// backend session there, and bob gets his own. Every token is a real one from the provider.
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responsesOf, type Answer } from '../attacker/answers.ts';
import { openLegacySession, postLegacy, postModern } from '../attacker/http-hosts.ts';
import { startOidcProvider, type IssuedToken, type RunningOidcProvider } from '../harness/identity.ts';
import type { SdkUpstream } from '../harness/index.ts';
import {
  HOST_KINDS,
  startIdentityHost,
  startWeatherUpstream,
  WEATHER,
  weatherServer,
  type IdentityHost,
} from './identity-hosts.ts';

const SCOPE = 'mcp:tools';

describe.each(HOST_KINDS)('sessions bound to the verified caller in the %s', (kind) => {
  let idp: RunningOidcProvider;
  let upstream: SdkUpstream;
  let host: IdentityHost;

  beforeAll(async () => {
    idp = await startOidcProvider();
    upstream = await startWeatherUpstream();
    host = await startIdentityHost(kind, {
      servers: [weatherServer(upstream)],
      oauth: { issuers: [idp.issuer], requiredScopes: [SCOPE] },
    });
  });

  afterAll(async () => {
    await host?.stop();
    await upstream?.stop();
    await idp?.stop();
  });

  const tokenOf = (account: string): Promise<IssuedToken> =>
    idp.userToken({ account, resource: host.url, scope: SCOPE });
  const bearer = (token: IssuedToken) => ({ authorization: `Bearer ${token.accessToken}` });
  const forecast = (city: string) => ({ name: WEATHER.tool, arguments: { city } });

  /** A legacy tools/call of the weather tool on `sessionId` with `token`. */
  const legacyCall = (sessionId: string, token: IssuedToken, city: string): Promise<Answer> =>
    postLegacy(
      host,
      { jsonrpc: '2.0', id: city, method: 'tools/call', params: forecast(city) },
      sessionId,
      bearer(token),
    );

  /** A 2026-07-28 tools/call of the weather tool with `token`. */
  const modernCall = (token: IssuedToken, city: string): Promise<Answer> =>
    postModern(host, { id: city, method: 'tools/call', params: forecast(city) }, bearer(token));

  const expectForecast = (answer: Answer, city: string) => {
    expect({ status: answer.status, result: JSON.stringify(responsesOf(answer.messages)[0]?.['result']) }).toEqual({
      status: 200,
      result: expect.stringContaining(`sunny in ${city}`),
    });
  };

  const expectNotFound = (answer: Answer, what: string) => {
    const error = responsesOf(answer.messages)[0]?.['error'] as { message?: string } | undefined;
    expect({ what, status: answer.status, message: error?.message }).toEqual({
      what,
      status: 404,
      message: expect.stringMatching(/session not found/i),
    });
  };

  /** The tools/calls that reached the upstream asking for `city`. */
  const callsFor = (city: string) =>
    upstream.requests.filter(
      (request) =>
        request.method === 'tools/call' &&
        (request.params as { arguments?: { city?: string } }).arguments?.city === city,
    );

  /** The initialize requests the upstream received on behalf of `sub` (by the bearer the gateway passed on). */
  const initializesOf = (sub: string) =>
    upstream.requests.filter((request) => {
      const authorization = request.headers['authorization'];
      return request.method === 'initialize' && authorization !== undefined && subjectOf(authorization) === sub;
    });

  it("keeps alice's legacy session when she presents a refreshed token", async () => {
    const first = await tokenOf('alice');
    const sessionId = await openLegacySession(host, bearer(first));
    expectForecast(await legacyCall(sessionId, first, 'Oslo'), 'Oslo');

    const refreshed = await idp.refreshUserToken(first.refreshToken ?? '', { resource: host.url });
    expect(refreshed.accessToken).not.toBe(first.accessToken);
    expect(refreshed.claims.sub).toBe('alice');
    expectForecast(await legacyCall(sessionId, refreshed, 'Bergen'), 'Bergen');
  });

  it("answers bob's valid token on alice's session with 404 and forwards nothing", async () => {
    const alice = await tokenOf('alice');
    const bob = await tokenOf('bob');
    const sessionId = await openLegacySession(host, bearer(alice));
    expectForecast(await legacyCall(sessionId, alice, 'Tromso'), 'Tromso');

    expectNotFound(await legacyCall(sessionId, bob, 'Narvik'), "bob's tools/call");
    expectNotFound(
      await postLegacy(host, { jsonrpc: '2.0', id: 'l', method: 'tools/list' }, sessionId, bearer(bob)),
      "bob's tools/list",
    );
    const deleted = await host.fetch({
      method: 'DELETE',
      headers: { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25', ...bearer(bob) },
    });
    expect(deleted.status).toBe(404);
    expect(callsFor('Narvik')).toEqual([]);

    // Bob's DELETE did not end it: alice goes on.
    expectForecast(await legacyCall(sessionId, alice, 'Bodo'), 'Bodo');
  });

  it('gives a 2026-07-28 caller one backend session per verified user, whatever token she presents', async () => {
    const [aliceFirst, aliceSecond, bob] = [await tokenOf('alice'), await tokenOf('alice'), await tokenOf('bob')];
    expect(aliceSecond.accessToken).not.toBe(aliceFirst.accessToken);
    const aliceBefore = initializesOf('alice').length;
    const bobBefore = initializesOf('bob').length;

    expectForecast(await modernCall(aliceFirst, 'Lima'), 'Lima');
    expectForecast(await modernCall(aliceSecond, 'Quito'), 'Quito');
    expectForecast(await modernCall(aliceFirst, 'Cusco'), 'Cusco');
    expect(initializesOf('alice').length - aliceBefore).toBe(1);
    // The three calls went on one backend session.
    const sessions = new Set(
      ['Lima', 'Quito', 'Cusco'].flatMap((city) => callsFor(city).map((call) => call.sessionId)),
    );
    expect(sessions.size).toBe(1);

    expectForecast(await modernCall(bob, 'Sucre'), 'Sucre');
    expect(initializesOf('bob').length - bobBefore).toBe(1);
    const [bobCall] = callsFor('Sucre');
    expect(bobCall?.sessionId).toBeDefined();
    expect(sessions.has(bobCall?.sessionId as string)).toBe(false);
  });
});

/** The `sub` of the bearer JWT in an Authorization value (the test's own tokens). */
function subjectOf(authorization: string): string | undefined {
  try {
    return decodeJwt(authorization.replace(/^Bearer /i, '')).sub;
  } catch {
    return undefined;
  }
}
