import { describe, expect, it } from 'vitest';
import { derivePrivateHost, derivePublicHost } from './hosts.ts';
import { gateway, listener } from './test-objects.ts';

describe('derivePublicHost', () => {
  it('turns a wildcard listener hostname into mcp.<domain>', () => {
    expect(derivePublicHost(undefined, listener('http', 8080, '*.example.com'))).toEqual({
      ok: true,
      host: 'mcp.example.com',
    });
  });

  it('uses an exact listener hostname as it is', () => {
    expect(derivePublicHost(undefined, listener('http', 8080, 'tools.example.com'))).toEqual({
      ok: true,
      host: 'tools.example.com',
    });
  });

  it('prefers spec.publicHost and drops its port', () => {
    expect(derivePublicHost('team-a.mcp.example.com:8443', listener('http', 8080, '*.example.com'))).toEqual({
      ok: true,
      host: 'team-a.mcp.example.com',
    });
  });

  it('refuses a publicHost with a scheme and names the field', () => {
    const result = derivePublicHost('https://x.example.com', listener('http', 8080));
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining('spec.publicHost') });
  });

  it('asks for a host when neither the extension nor the listener has one', () => {
    const result = derivePublicHost(undefined, listener('http', 8080));
    expect(result).toMatchObject({ ok: false, message: expect.stringContaining('set spec.publicHost') });
  });
});

describe('derivePrivateHost', () => {
  const gw = gateway('gateway-system', 'mcp-gateway', []);

  it('names the Gateway Service and the listener port', () => {
    expect(derivePrivateHost(undefined, gw, listener('http', 8080))).toBe(
      'mcp-gateway-istio.gateway-system.svc.cluster.local:8080',
    );
  });

  it('uses https for an HTTPS listener', () => {
    expect(derivePrivateHost(undefined, gw, listener('https', 8443, undefined, { protocol: 'HTTPS' }))).toBe(
      'https://mcp-gateway-istio.gateway-system.svc.cluster.local:8443',
    );
  });

  it('keeps spec.privateHost verbatim', () => {
    expect(derivePrivateHost('http://internal:9000', gw, listener('http', 8080))).toBe('http://internal:9000');
  });
});
