import { describe, expect, it } from 'vitest';
import { audienceOf, bearerChallenge, metadataUrlOf, protectedResourceMetadata } from './protected-resource.ts';

const OAUTH = { issuers: [{ issuer: 'https://idp.example.com' }], requiredScopes: ['mcp:tools'] };

describe('protectedResourceMetadata', () => {
  it("has the anchor's defaults without environment or verification", () => {
    expect(protectedResourceMetadata({}, undefined)).toEqual({
      resource_name: 'MCP Server',
      resource: '/mcp',
      authorization_servers: [],
      bearer_methods_supported: ['header'],
      scopes_supported: ['basic'],
    });
  });

  it('names the audience, the issuers and the required scopes when verification is on and the environment is silent', () => {
    const metadata = protectedResourceMetadata({}, { ...OAUTH, audience: 'https://mcp.example.com/mcp' });
    expect(metadata).toMatchObject({
      resource: 'https://mcp.example.com/mcp',
      authorization_servers: ['https://idp.example.com'],
      scopes_supported: ['mcp:tools'],
    });
  });

  it('keeps what the environment says about servers and scopes', () => {
    const env = { OAUTH_AUTHORIZATION_SERVERS: 'https://a.example, https://b.example', OAUTH_SCOPES_SUPPORTED: 'x,y' };
    expect(protectedResourceMetadata(env, { ...OAUTH, audience: 'https://mcp.example.com/mcp' })).toMatchObject({
      authorization_servers: ['https://a.example', 'https://b.example'],
      scopes_supported: ['x', 'y'],
    });
  });
});

describe('audienceOf', () => {
  it("is the config's audience, else an absolute OAUTH_RESOURCE, never the relative default", () => {
    expect(
      audienceOf({ OAUTH_RESOURCE: 'https://env.example/mcp' }, { ...OAUTH, audience: 'https://cfg.example/mcp' }),
    ).toBe('https://cfg.example/mcp');
    expect(audienceOf({ OAUTH_RESOURCE: 'https://env.example/mcp' }, OAUTH)).toBe('https://env.example/mcp');
    expect(audienceOf({ OAUTH_RESOURCE: '/mcp' }, OAUTH)).toBeUndefined();
    expect(audienceOf({}, OAUTH)).toBeUndefined();
  });
});

describe('metadataUrlOf', () => {
  it('puts the well-known path between the origin and the resource path (RFC 9728 §3.1)', () => {
    expect(metadataUrlOf('https://mcp.example.com/mcp', 'http://ignored/')).toBe(
      'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
    );
    expect(metadataUrlOf('https://mcp.example.com/', 'http://ignored/')).toBe(
      'https://mcp.example.com/.well-known/oauth-protected-resource',
    );
  });

  it("resolves a relative resource on the request's origin", () => {
    expect(metadataUrlOf('/mcp', 'http://127.0.0.1:8080/mcp')).toBe(
      'http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp',
    );
  });
});

describe('bearerChallenge', () => {
  it('names only the metadata when no token was presented', () => {
    expect(bearerChallenge({ status: 401, description: 'a bearer token is required' }, 'https://m/x')).toBe(
      'Bearer resource_metadata="https://m/x"',
    );
  });

  it('adds the RFC 6750 error, description and scope', () => {
    expect(
      bearerChallenge(
        { status: 403, error: 'insufficient_scope', description: 'the token lacks the scope a', scope: 'a b' },
        'https://m/x',
      ),
    ).toBe(
      'Bearer resource_metadata="https://m/x", error="insufficient_scope", error_description="the token lacks the scope a", scope="a b"',
    );
  });

  it('keeps quotes, backslashes and control characters out of quoted values', () => {
    const challenge = bearerChallenge(
      { status: 401, error: 'invalid_token', description: 'bad "token"\\\r\nSet-Cookie: x=1' },
      'https://m/x',
    );
    expect(challenge).toContain('error_description="bad tokenSet-Cookie: x=1"');
    expect(challenge).not.toMatch(/[\r\n]/);
  });
});
