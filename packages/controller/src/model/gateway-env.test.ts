import { describe, expect, it } from 'vitest';
import { parseGatewayEnv } from './gateway-env.ts';

describe('parseGatewayEnv', () => {
  it.each([
    { entries: [], env: [] },
    {
      entries: ['OTEL_EXPORTER_OTLP_ENDPOINT=http://otel:4317', 'OTEL_RESOURCE_ATTRIBUTES=a=1,b=2'],
      env: [
        { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel:4317' },
        { name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'a=1,b=2' },
      ],
    },
    { entries: ['EMPTY='], env: [{ name: 'EMPTY', value: '' }] },
    { entries: ['A=1', 'A=2'], env: [{ name: 'A', value: '2' }] },
  ])('reads $entries', ({ entries, env }) => {
    expect(parseGatewayEnv(entries)).toEqual({ ok: true, env });
  });

  it.each([
    { entry: 'NO_VALUE', message: /NAME=VALUE/ },
    { entry: '=value', message: /NAME=VALUE/ },
    { entry: '1ST=x', message: /NAME=VALUE/ },
    { entry: 'GATEWAY_SIGNING_KEY=x', message: /GATEWAY_SIGNING_KEY: the controller sets it/ },
    { entry: 'CACHE_CONNECTION_STRING=redis://x', message: /CACHE_CONNECTION_STRING: the controller sets it/ },
    { entry: 'TRUSTED_HEADER_PUBLIC_KEY=x', message: /the controller sets it/ },
    { entry: 'CREDENTIAL_ENCRYPTION_KEYS=x', message: /CREDENTIAL_ENCRYPTION_KEYS: the controller sets it/ },
  ])('refuses $entry', ({ entry, message }) => {
    const result = parseGatewayEnv(['OK=1', entry]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toMatch(message);
  });
});
