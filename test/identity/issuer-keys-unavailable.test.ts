// No key cached yet and the issuer's JWKS unavailable (issue 12, item 3): the gateway fails
// closed with 503 naming the issuer, promptly when the JWKS is down and within its 5 s fetch
// timeout when it hangs or is slow (never a request that hangs with it), and serves as soon as the
// JWKS is back. In each host; the JWKS faults are the harness's stand-in (no real provider fails
// on demand).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { responsesOf, type Answer } from '../attacker/answers.ts';
import { postModern } from '../attacker/http-hosts.ts';
import {
  createTokenForge,
  startOidcProvider,
  type JwksFault,
  type RunningOidcProvider,
  type TokenForge,
} from '../harness/identity.ts';
import type { SdkUpstream } from '../harness/index.ts';
import {
  HOST_KINDS,
  startIdentityHost,
  startWeatherUpstream,
  WEATHER,
  weatherServer,
  type IdentityHost,
} from './identity-hosts.ts';

/** The gateway's timeout of one key fetch (issuer-keys.ts). */
const FETCH_TIMEOUT_MS = 5_000;

/** A 2026-07-28 call of the weather tool with `token`, and how long it took. */
async function timedCall(host: IdentityHost, token: string): Promise<{ answer: Answer; ms: number }> {
  const started = Date.now();
  const answer = await postModern(
    host,
    { id: 1, method: 'tools/call', params: { name: WEATHER.tool, arguments: { city: 'Oslo' } } },
    { authorization: `Bearer ${token}` },
  );
  return { answer, ms: Date.now() - started };
}

describe.each(HOST_KINDS)('no issuer key cached yet in the %s', (kind) => {
  let idp: RunningOidcProvider;
  let upstream: SdkUpstream;
  let host: IdentityHost;
  let forge: TokenForge;

  beforeAll(async () => {
    idp = await startOidcProvider();
    upstream = await startWeatherUpstream();
    host = await startIdentityHost(kind, { servers: [weatherServer(upstream)], oauth: { issuers: [idp.issuer] } });
    forge = createTokenForge({ issuer: idp.issuer, audience: host.url, key: idp.keys.active });
  });

  afterAll(async () => {
    idp?.jwks.restore();
    await host?.stop();
    await upstream?.stop();
    await idp?.stop();
  });

  const expectUnavailable = (answer: Answer) => {
    expect(answer.status).toBe(503);
    const error = responsesOf(answer.messages)[0]?.['error'] as { message?: string } | undefined;
    expect(error?.message).toContain(`the keys of issuer ${idp.issuer} are unavailable`);
  };

  const faults: ReadonlyArray<{ fault: JwksFault; ms?: number; within: number }> = [
    { fault: 'down', within: 2_000 },
    { fault: 'error', within: 2_000 },
    { fault: 'hang', within: FETCH_TIMEOUT_MS + 3_000 },
    // Slower than the gateway waits.
    { fault: 'slow', ms: FETCH_TIMEOUT_MS + 3_000, within: FETCH_TIMEOUT_MS + 3_000 },
  ];

  it.each(faults.filter(({ fault }) => kind === 'broker' || fault !== 'slow'))(
    'answers 503 naming the issuer while the JWKS is $fault, within $within ms',
    async ({ fault, ms, within }) => {
      idp.jwks.fail(fault, ms);
      const before = idp.jwks.fetches();
      const { answer, ms: took } = await timedCall(host, await forge.valid());
      expectUnavailable(answer);
      expect(took).toBeLessThan(within);
      expect(idp.jwks.fetches()).toBeGreaterThan(before);
      expect(upstream.requests.filter((request) => request.method === 'tools/call')).toEqual([]);
    },
    FETCH_TIMEOUT_MS + 10_000,
  );

  it('serves as soon as the JWKS is back', async () => {
    idp.jwks.restore();
    const { answer } = await timedCall(host, await forge.valid());
    expect(answer.status).toBe(200);
    expect(JSON.stringify(responsesOf(answer.messages)[0]?.['result'])).toContain('sunny in Oslo');
  });
});
