import { describe, expect, it } from 'vitest';
import { GatewayError } from '../errors.ts';
import { checkOrigin, LOOPBACK_HOSTS, type OriginPolicy } from './origin-policy.ts';

const OPEN: OriginPolicy = { allowedOrigins: [], allowedHosts: [] };
const LOOPBACK_ONLY: OriginPolicy = { allowedOrigins: [], allowedHosts: LOOPBACK_HOSTS };

function check(headers: Record<string, string>, policy: OriginPolicy = OPEN) {
  return checkOrigin(new Headers(headers), policy);
}

function expectForbidden(result: GatewayError | undefined, naming: string): void {
  expect(result).toBeInstanceOf(GatewayError);
  expect(result?.code).toBe('ORIGIN_FORBIDDEN');
  expect(result?.status).toBe(403);
  expect(result?.message).toContain(naming);
}

describe('checkOrigin', () => {
  it('allows a request without an Origin header', () => {
    expect(check({})).toBeUndefined();
    expect(check({ host: 'localhost:8080' }, LOOPBACK_ONLY)).toBeUndefined();
  });

  it.each(['http://localhost', 'http://localhost:5173', 'https://127.0.0.1:8443', 'http://[::1]:3000'])(
    'allows the loopback origin %s',
    (origin) => {
      expect(check({ origin })).toBeUndefined();
      expect(check({ origin, host: 'localhost:8080' }, LOOPBACK_ONLY)).toBeUndefined();
    },
  );

  it('refuses another origin with ORIGIN_FORBIDDEN naming it', () => {
    expectForbidden(check({ origin: 'https://evil.example.com' }), 'https://evil.example.com');
  });

  it('refuses Origin null, which sandboxed frames send, unless "*" is allowed', () => {
    expect(check({ origin: 'null' })?.code).toBe('ORIGIN_FORBIDDEN');
    expect(check({ origin: 'null' }, { allowedOrigins: ['*'], allowedHosts: [] })).toBeUndefined();
  });

  it('refuses an Origin that is not a URL', () => {
    expectForbidden(check({ origin: 'not an origin' }), 'not an origin');
  });

  it('allows an origin listed in allowedOrigins by exact match only', () => {
    const policy: OriginPolicy = { allowedOrigins: ['https://app.example.com'], allowedHosts: [] };

    expect(check({ origin: 'https://app.example.com' }, policy)).toBeUndefined();
    expectForbidden(check({ origin: 'https://app.example.com:8443' }, policy), 'https://app.example.com:8443');
    expectForbidden(check({ origin: 'http://app.example.com' }, policy), 'http://app.example.com');
    expectForbidden(check({ origin: 'https://other.example.com' }, policy), 'https://other.example.com');
  });

  it('allows any origin when allowedOrigins holds "*"', () => {
    const policy: OriginPolicy = { allowedOrigins: ['*'], allowedHosts: [] };

    expect(check({ origin: 'https://anything.example.net' }, policy)).toBeUndefined();
  });

  it('allows any Host when allowedHosts is empty', () => {
    expect(check({ host: 'gateway.example.com' })).toBeUndefined();
    expect(check({ host: '10.0.0.7:8080' })).toBeUndefined();
  });

  it.each(['localhost', 'localhost:8080', '127.0.0.1:8080', '[::1]:8080', '[::1]', 'LOCALHOST:8080'])(
    'allows the Host %s on a loopback-only policy',
    (host) => {
      expect(check({ host }, LOOPBACK_ONLY)).toBeUndefined();
    },
  );

  it('allows a configured public host with and without a port', () => {
    const policy: OriginPolicy = { allowedOrigins: [], allowedHosts: [...LOOPBACK_HOSTS, 'mcp.example.com'] };

    expect(check({ host: 'mcp.example.com' }, policy)).toBeUndefined();
    expect(check({ host: 'mcp.example.com:443' }, policy)).toBeUndefined();
  });

  it.each(['gateway.example.com', 'gateway.example.com:8080', '[::2]:8080', '10.0.0.7'])(
    'refuses the Host %s that allowedHosts does not list',
    (host) => {
      const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] as string);

      expectForbidden(check({ host }, LOOPBACK_ONLY), name);
    },
  );

  it('refuses a DNS-rebinding request to a loopback-only gateway', () => {
    const result = check({ host: 'evil.example.com', origin: 'http://evil.example.com' }, LOOPBACK_ONLY);

    expectForbidden(result, 'evil.example.com');
  });

  it('refuses a DNS-rebinding request on a non-default port', () => {
    const result = check({ host: 'evil.example.com:8080', origin: 'http://evil.example.com:8080' }, LOOPBACK_ONLY);

    expectForbidden(result, 'evil.example.com');
  });

  it('allows a browser page served from an allowed public host', () => {
    const policy: OriginPolicy = { allowedOrigins: [], allowedHosts: [...LOOPBACK_HOSTS, 'mcp.example.com'] };

    expect(check({ host: 'mcp.example.com', origin: 'https://mcp.example.com' }, policy)).toBeUndefined();
  });
});
