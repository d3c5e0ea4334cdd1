import { describe, expect, it } from 'vitest';
import type { GatewayConfig, ServerConfig } from '../config/schema.ts';
import { credentialWarnings, inForce } from './gateway-credentials.ts';

const tracker: ServerConfig = {
  name: 'tracker',
  url: 'http://tracker.test/mcp',
  hostname: 'tracker.test',
  prefix: '',
  enabled: true,
  userSpecificList: false,
  category: [],
  tags: [],
  userCredential: { kind: 'paste' },
};
const config = (extra: Partial<GatewayConfig> = {}): GatewayConfig => ({
  servers: [tracker],
  virtualServers: [],
  ...extra,
});

describe("a host's credential settings over a config", () => {
  it('leaves a pasted-token server out of force without the URL elicitation flag, and says so', () => {
    expect(inForce(config(), {}).servers[0]).not.toHaveProperty('userCredential');
    expect(inForce(config(), { urlElicitation: true }).servers[0]?.userCredential).toEqual({ kind: 'paste' });
    expect(credentialWarnings(config(), {})).toEqual([
      "server tracker: tokenURLElicitation is ignored without --enable-url-elicitation (ENABLE_URL_ELICITATION=true); its calls carry the client's own Authorization",
    ]);
    expect(credentialWarnings(config(), { urlElicitation: true })).toEqual([]);
  });

  it('warns of a login without an issuer when token verification names none or several, not when it names one', () => {
    const login = { credentials: { login: { clientId: 'web', scopes: ['openid'] }, pastedTokenTtlSeconds: 60 } };
    expect(credentialWarnings(config(login), { urlElicitation: true })).toEqual([
      'credentials.login: no issuer, and token verification does not name exactly one: the /tokens pages sign nobody in (set credentials.login.issuer)',
    ]);
    expect(credentialWarnings(config(login), { urlElicitation: true }, { OAUTH_ISSUERS: 'https://idp.test' })).toEqual(
      [],
    );
  });
});
