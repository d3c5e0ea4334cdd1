import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import type { GatewayConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { unverified, type Authentication } from '../identity/authentication.ts';
import { NOOP_LOGGER } from '../logger.ts';
import {
  accessConfigIssues,
  createAccessControl,
  oauthOf,
  type AccessControl,
  type AccessEnv,
  type RequestAccess,
} from './access-control.ts';
import type { AccessSubject } from './access-rules.ts';

const tool = (name: string, server = 'team/weather', prefix = 'w_'): AccessSubject => ({
  kind: 'tool',
  server,
  name,
  servedName: prefix + name,
});
const prompt = (name: string): AccessSubject => ({
  kind: 'prompt',
  server: 'team/weather',
  name,
  servedName: `w_${name}`,
});
const resource = (uri: string): AccessSubject => ({
  kind: 'resource',
  server: 'team/weather',
  name: uri,
  servedName: uri,
});

const ALICE_IDENTITY = {
  issuer: 'https://idp.example',
  subject: 'alice',
  clientId: 'app',
  scopes: ['mcp:tools'],
  claims: { roles: ['admin'] },
  expiresAt: 4_000_000_000,
};
const ALICE: Authentication = { kind: 'verified', identity: ALICE_IDENTITY };

const BOB: Authentication = {
  kind: 'verified',
  identity: { ...ALICE_IDENTITY, subject: 'bob', claims: { roles: ['reader'] } },
};

function control(config: Partial<GatewayConfig>, env: AccessEnv = {}): AccessControl {
  return createAccessControl({
    config: { servers: [], virtualServers: [], ...config },
    env,
    fetch,
    logger: NOOP_LOGGER,
  });
}

async function access(
  target: AccessControl,
  headers: Record<string, string> = {},
  auth: Authentication = unverified(null),
  sessionVs?: string,
): Promise<RequestAccess> {
  const built = await target.requestAccess(new Headers(headers), auth, 'tools/call', sessionVs);
  if (built instanceof GatewayError) throw built;
  return built;
}

describe('createAccessControl without access sections', () => {
  const open = control({});

  it('verifies nothing, filters nothing and allows everything', async () => {
    expect(open.verifying).toBe(false);
    expect(open.filtering).toBe(false);
    expect(await open.authenticate(null)).toEqual({ ok: true, auth: { kind: 'anonymous' } });
    expect(await open.authenticate('Bearer x')).toEqual({
      ok: true,
      auth: { kind: 'credential', authorization: 'Bearer x' },
    });
    expect(open.decide(await access(open), tool('delete_all'))).toEqual({ allowed: true, by: 'open' });
  });
});

describe('virtual servers', () => {
  const target = control({ virtualServers: [{ name: 'ns/forecasts', tools: ['w_forecast'], prompts: ['w_summary'] }] });

  it('hide and refuse the tools and prompts they do not list, and leave resources alone', async () => {
    const chosen = await access(target, { 'x-mcp-virtualserver': 'ns/forecasts' });
    expect(target.visible(chosen, tool('forecast'))).toBe(true);
    expect(target.visible(chosen, tool('alerts'))).toBe(false);
    expect(target.decide(chosen, tool('alerts'))).toMatchObject({ allowed: false, because: 'virtual-server' });
    expect(target.visible(chosen, prompt('outlook'))).toBe(false);
    expect(target.visible(chosen, resource('test://stations'))).toBe(true);
  });

  it("are the session's when it chose one: a request's header does not change it", async () => {
    const session = await access(target, { 'x-mcp-virtualserver': 'ns/other' }, unverified(null), 'ns/forecasts');
    expect(session.virtualServer?.name).toBe('ns/forecasts');
    expect(target.decide(session, tool('alerts')).allowed).toBe(false);
  });

  it('refuse a request naming one that is not configured', async () => {
    const built = await target.requestAccess(
      new Headers({ 'x-mcp-virtualserver': 'nowhere' }),
      unverified(null),
      'tools/list',
    );
    expect(built).toBeInstanceOf(GatewayError);
    expect((built as GatewayError).message).toBe('Unknown virtual server: nowhere');
  });
});

describe('the trusted header', () => {
  let signer: CryptoKey;
  let publicKey: string;
  const header = (capabilities: unknown) =>
    new SignJWT({ 'allowed-capabilities': JSON.stringify(capabilities) })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime('5m')
      .sign(signer);

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    signer = pair.privateKey;
    publicKey = await exportSPKI(pair.publicKey);
  });

  it('limits each kind it names to the unprefixed names it lists per server, and leaves unnamed kinds alone', async () => {
    const target = control({}, { TRUSTED_HEADER_PUBLIC_KEY: publicKey });
    expect(target.filtering).toBe(true);
    const signed = await access(target, {
      'x-mcp-authorized': await header({
        tools: { 'team/weather': ['forecast'] },
        resources: { 'team/weather': ['dashboard'] },
      }),
    });
    expect(target.visible(signed, tool('forecast'))).toBe(true);
    expect(target.visible(signed, tool('alerts'))).toBe(false);
    expect(target.visible(signed, tool('forecast', 'team/maps', 'm_'))).toBe(false);
    expect(target.decide(signed, tool('alerts'))).toMatchObject({ allowed: false, because: 'capabilities' });
    expect(target.visible(signed, prompt('summary'))).toBe(true);
    expect(target.visible(signed, resource('ui://dashboard/index.html'))).toBe(true);
    expect(target.visible(signed, resource('ui://other/index.html'))).toBe(false);
  });

  it('allows nothing of a kind given as an empty map', async () => {
    const target = control({}, { TRUSTED_HEADER_PUBLIC_KEY: publicKey });
    const signed = await access(target, { 'x-mcp-authorized': await header({ prompts: {} }) });
    expect(target.visible(signed, prompt('summary'))).toBe(false);
    expect(target.visible(signed, tool('forecast'))).toBe(true);
  });

  it('allows everything without a header, and nothing when the header is required (--enforce-capability-filtering)', async () => {
    const lax = control({}, { TRUSTED_HEADER_PUBLIC_KEY: publicKey });
    const strict = control({}, { TRUSTED_HEADER_PUBLIC_KEY: publicKey, enforceCapabilityFiltering: true });
    expect(lax.visible(await access(lax), tool('forecast'))).toBe(true);
    expect(strict.visible(await access(strict), tool('forecast'))).toBe(false);
    const signed = await access(strict, {
      'x-mcp-authorized': await header({ tools: { 'team/weather': ['forecast'] } }),
    });
    expect(strict.visible(signed, tool('forecast'))).toBe(true);
    expect(strict.visible(signed, prompt('summary'))).toBe(false);
  });

  it('allows nothing when no key is configured to check a header that is present', async () => {
    const target = control({});
    const presented = await access(target, {
      'x-mcp-authorized': await header({ tools: { 'team/weather': ['forecast'] } }),
    });
    expect(target.visible(presented, tool('forecast'))).toBe(false);
  });
});

describe('policy rules', () => {
  const target = control({
    policy: {
      default: 'allow',
      rules: [
        { name: 'admins-only', effect: 'deny', tools: ['delete_*'], when: '!("admin" in auth.claims.roles)' },
        { name: 'no-pyongyang', effect: 'deny', tools: ['forecast'], when: 'mcp.arguments.city == "Pyongyang"' },
      ],
    },
  });

  it('decide calls with the caller, the item and the arguments, naming the deciding rule', async () => {
    const anonymous = await access(target);
    const alice = await access(target, {}, ALICE);
    const bob = await access(target, {}, BOB);
    expect(target.decide(bob, tool('delete_all'))).toEqual({
      allowed: false,
      because: 'policy',
      by: 'rule',
      rule: 'admins-only',
    });
    // An anonymous caller has no roles claim: the condition fails to evaluate, and the call is refused.
    expect(target.decide(anonymous, tool('delete_all'))).toEqual({
      allowed: false,
      because: 'policy',
      by: 'error',
      rule: 'admins-only',
    });
    expect(target.decide(alice, tool('delete_all'))).toMatchObject({ allowed: true, by: 'default' });
    expect(target.decide(alice, tool('forecast'), { city: 'Oslo' }).allowed).toBe(true);
    expect(target.decide(alice, tool('forecast'), { city: 'Pyongyang' })).toMatchObject({
      allowed: false,
      rule: 'no-pyongyang',
    });
  });

  it('keep a tool listed when a rule on its arguments may refuse only some calls', async () => {
    const alice = await access(target, {}, ALICE);
    expect(target.visible(alice, tool('forecast'))).toBe(true);
    expect(target.visible(await access(target), tool('delete_all'))).toBe(false);
  });
});

describe('accessConfigIssues', () => {
  it('requires an audience for token verification, from the config or an absolute OAUTH_RESOURCE', () => {
    const config = {
      servers: [],
      virtualServers: [],
      auth: { oauth: { issuers: [{ issuer: 'https://idp.example' }], requiredScopes: [] } },
    };
    expect(accessConfigIssues(config, {})).toEqual([expect.stringMatching(/^auth\.oauth\.audience: required/)]);
    expect(accessConfigIssues(config, { OAUTH_RESOURCE: 'https://mcp.example.com/mcp' })).toEqual([]);
    expect(() => createAccessControl({ config, env: {}, fetch, logger: NOOP_LOGGER })).toThrow(/audience/);
  });

  it('checks OAUTH_ISSUERS, the trusted header key and the policy', () => {
    const empty = { servers: [], virtualServers: [] };
    expect(accessConfigIssues(empty, { OAUTH_ISSUERS: 'ftp://idp', OAUTH_RESOURCE: 'https://m/mcp' })).toEqual([
      expect.stringMatching(/^OAUTH_ISSUERS: "ftp:\/\/idp" must be an https URL/),
    ]);
    expect(accessConfigIssues(empty, { TRUSTED_HEADER_PUBLIC_KEY: 'nope' })).toEqual([
      expect.stringMatching(/^TRUSTED_HEADER_PUBLIC_KEY: must be a PEM public key/),
    ]);
    const policy = { default: 'allow' as const, rules: [{ name: 'r', effect: 'deny' as const, when: 'user == 1' }] };
    expect(accessConfigIssues({ ...empty, policy }, {})).toEqual([
      expect.stringMatching(/^policy\.rules\[0\]\.when: unknown variable/),
    ]);
  });
});

describe('oauthOf', () => {
  it("takes the config's auth.oauth, else OAUTH_ISSUERS and OAUTH_REQUIRED_SCOPES", () => {
    const fromEnv = oauthOf(
      { servers: [], virtualServers: [] },
      { OAUTH_ISSUERS: 'https://a, https://b', OAUTH_REQUIRED_SCOPES: 'x y' },
    );
    expect(fromEnv).toEqual({
      issuers: [{ issuer: 'https://a' }, { issuer: 'https://b' }],
      requiredScopes: ['x', 'y'],
    });
    expect(oauthOf({ servers: [], virtualServers: [] }, {})).toBeUndefined();
  });
});
