// Brief A through the Envoy ext_proc router, spoken to directly over gRPC as Envoy would: a
// session made through the broker by one caller and presented to the router by another must get
// an immediate 404, be routed nowhere (no upstream :authority, no backend mcp-session-id), and
// open no backend session with the presenter's identity.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecodedAnswer } from '../harness/ext-proc-client.ts';
import { startSdkUpstream, type SdkUpstream } from '../harness/index.ts';
import { forgedSessionIds, impostorsOf, opaqueBearer, signedBearer, type Subject } from './credentials.ts';
import { brokerOf, openLegacySession, type HttpHost } from './http-hosts.ts';
import {
  immediateOf,
  legacyHeaders,
  routerMessages,
  setHeadersOf,
  startRouterHost,
  type RouterHost,
} from './router-host.ts';
import { registerTargets, ROUTED_CALLS, routedRequest, TARGET_PREFIX, waitForTools } from './sessions.case.ts';

const TARGET_HOST = 'targets.mcp.local';

let targets: SdkUpstream;
let router: RouterHost;
/** The broker of the same gateway, where sessions are made. */
let broker: HttpHost;
const secrets: string[] = ['dXNlcjpwdw=='];

beforeAll(async () => {
  targets = await startSdkUpstream({ name: 'targets', setup: registerTargets });
  router = await startRouterHost([{ name: 'targets', url: targets.url, prefix: TARGET_PREFIX, hostname: TARGET_HOST }]);
  broker = brokerOf(router.gateway);
  await waitForTools(broker, ['t_echo']);
});

afterAll(async () => {
  await router?.stop();
  await targets?.stop();
});

/** Sends one routed call of `sessionId` to the router, with `headers` (authorization). */
function callThroughRouter(
  call: (typeof ROUTED_CALLS)[number],
  sessionId: string,
  headers: Record<string, string>,
): Promise<DecodedAnswer[]> {
  return router.exchange(routerMessages({ headers: legacyHeaders(sessionId, headers), body: routedRequest(call) }));
}

/** The backend session ids the upstream has seen, from the calls it received. */
const backendIdsSeen = () => new Set(targets.requests.map((r) => r.sessionId).filter((id) => id !== undefined));

/**
 * The router's refusal of a foreign session: an immediate 404, and nothing that would route it
 * (no :authority of an upstream, no backend mcp-session-id).
 */
function expectRefused(answers: readonly DecodedAnswer[], what: string): void {
  const routing = setHeadersOf(answers).filter(
    (h) => (h.key === ':authority' && h.value === TARGET_HOST) || h.key === 'mcp-session-id',
  );
  expect({ what, immediate: immediateOf(answers)?.status, routing }).toEqual({
    what,
    immediate: 'NotFound',
    routing: [],
  });
}

const initializesCarrying = (authorization: string) =>
  targets.requests.filter((r) => r.method === 'initialize' && r.headers['authorization'] === authorization);

/** Opens a session through the broker with `authorization` and, when `callFirst`, routes its own calls. */
async function victimSession(authorization: string | undefined, callFirst: boolean): Promise<string> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const sessionId = await openLegacySession(broker, headers);
  secrets.push(sessionId);
  if (!callFirst) return sessionId;
  for (const call of ROUTED_CALLS) {
    const answers = await callThroughRouter(call, sessionId, headers);
    const routed = setHeadersOf(answers).find((h) => h.phase === 'request_body' && h.key === ':authority')?.value;
    expect({ method: call.method, routedTo: routed }).toEqual({ method: call.method, routedTo: TARGET_HOST });
  }
  return sessionId;
}

const PRESENTATIONS: readonly (readonly [string, () => { authorization?: string }])[] = [
  ['another bearer', () => ({ authorization: opaqueBearer('ATTACKER') })],
  ['no Authorization', () => ({})],
  ['Basic', () => ({ authorization: 'Basic dXNlcjpwdw==' })],
];

describe('the router and sessions of another caller', () => {
  it.each(PRESENTATIONS)(
    "refuses an opaque-bearer session presented with %s while the victim's backend session is open",
    async (_what, presented) => {
      const victim = opaqueBearer('VICTIM');
      secrets.push(victim);
      const sessionId = await victimSession(victim, true);
      const victimBackends = backendIdsSeen();
      for (const call of ROUTED_CALLS) {
        const headers = presented();
        if (headers.authorization !== undefined) secrets.push(headers.authorization);
        const answers = await callThroughRouter(call, sessionId, headers);
        expectRefused(answers, call.method);
        const leaked = setHeadersOf(answers).filter((h) => h.key === 'mcp-session-id' && victimBackends.has(h.value));
        expect(leaked).toEqual([]);
        if (headers.authorization !== undefined) expect(initializesCarrying(headers.authorization)).toEqual([]);
      }
    },
  );

  it.each(PRESENTATIONS)(
    'refuses an opaque-bearer session presented with %s before the victim made any call, opening no backend session',
    async (_what, presented) => {
      for (const call of ROUTED_CALLS) {
        const victim = opaqueBearer('VICTIM');
        secrets.push(victim);
        const sessionId = await victimSession(victim, false);
        const initializesBefore = targets.initializeCount;
        const headers = presented();
        if (headers.authorization !== undefined) secrets.push(headers.authorization);
        expectRefused(await callThroughRouter(call, sessionId, headers), call.method);
        expect({ method: call.method, initializes: targets.initializeCount - initializesBefore }).toEqual({
          method: call.method,
          initializes: 0,
        });
      }
    },
  );

  describe('a session made with a bearer JWT', () => {
    const subject: Subject = { iss: 'https://idp.example.com', sub: `victim-${randomUUID()}` };
    const idpKey = `victim-idp-key-${randomUUID()}`;

    const refusesImpostor = async (what: string, impostor: string) => {
      const victim = await signedBearer(subject, idpKey);
      secrets.push(victim, impostor);
      const sessionId = await victimSession(victim, true);
      for (const call of ROUTED_CALLS) {
        expectRefused(
          await callThroughRouter(call, sessionId, { authorization: impostor }),
          `${call.method} with ${what}`,
        );
      }
      expect(initializesCarrying(impostor)).toEqual([]);
    };

    it('is refused with an unsigned JWT (alg none) of the same iss and sub', async () => {
      const [unsigned] = await impostorsOf(subject);
      await refusesImpostor(unsigned!.what, unsigned!.authorization);
    });

    it('is refused with a JWT of the same iss and sub signed by another key', async () => {
      const [, resigned] = await impostorsOf(subject);
      await refusesImpostor(resigned!.what, resigned!.authorization);
    });

    it('is refused with a refreshed JWT of the same iss and sub (another token string)', async () => {
      await refusesImpostor('a refreshed JWT', await signedBearer(subject, idpKey));
    });
  });

  it('refuses a session made without Authorization when it comes with any', async () => {
    const sessionId = await victimSession(undefined, true);
    const bearer = opaqueBearer('ATTACKER');
    const jwt = await signedBearer({ iss: 'https://idp.example.com', sub: 'anyone' });
    secrets.push(bearer, jwt);
    for (const authorization of [bearer, jwt, 'Basic dXNlcjpwdw==']) {
      for (const call of ROUTED_CALLS) {
        expectRefused(
          await callThroughRouter(call, sessionId, { authorization }),
          `${call.method} with ${authorization.split(' ')[0]}`,
        );
      }
    }
  });

  it('answers 404 to session ids it never issued: forged, unsigned, truncated, garbage, expired', async () => {
    const victim = opaqueBearer('VICTIM');
    secrets.push(victim);
    const real = await victimSession(victim, true);
    for (const forged of await forgedSessionIds(real)) {
      secrets.push(forged.token);
      for (const call of ROUTED_CALLS) {
        expectRefused(
          await callThroughRouter(call, forged.token, { authorization: victim }),
          `${call.method} on ${forged.what}`,
        );
      }
    }
  });

  it('writes none of the presented credentials or session ids to its log', async () => {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const logs = router.gateway.logs();
    expect(logs).toContain('mcp router (Envoy ext_proc) listening');
    const leaked = secrets.filter((secret) => logs.includes(secret.replace(/^(Bearer|Basic) /, '')));
    expect(leaked).toEqual([]);
  });
});
