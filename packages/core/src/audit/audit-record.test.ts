import { describe, expect, it } from 'vitest';
import type { AuditRecord } from './audit-record.ts';
import { canonicalJson, createAuditor, NO_AUDIT } from './audit-record.ts';
import { NOOP_LOGGER } from '../logger.ts';

const SUBJECT = { kind: 'tool', server: 'team/weather', name: 'forecast', servedName: 'w_forecast' } as const;
const ALICE = {
  kind: 'verified',
  identity: { issuer: 'https://idp', subject: 'alice', clientId: 'app', scopes: [], claims: {}, expiresAt: 1 },
} as const;

function collect(args: 'hash' | 'values') {
  const records: AuditRecord[] = [];
  const auditor = createAuditor(
    { arguments: args },
    { write: (record) => records.push(record) },
    'broker',
    NOOP_LOGGER,
  );
  return { auditor, records };
}

const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('createAuditor', () => {
  it("records a call not forwarded for want of the user's own credential as no_credential, naming why", async () => {
    const { auditor, records } = collect('hash');
    const trail = auditor.begin({
      method: 'tools/call',
      subject: SUBJECT,
      verdict: { allowed: true, by: 'open' },
      auth: ALICE,
      jti: undefined,
      args: {},
    });
    trail.noCredential('URL_ELICITATION_REQUIRED');
    trail.finish();
    await settled();
    expect(records[0]).toMatchObject({
      outcome: 'no_credential',
      credential: 'URL_ELICITATION_REQUIRED',
      latencyMs: 0,
      upstreamStatus: null,
    });
  });

  it('records an allowed call once its answer has ended, with the upstream status and the hash of its arguments', async () => {
    const { auditor, records } = collect('hash');
    const trail = auditor.begin({
      method: 'tools/call',
      subject: SUBJECT,
      verdict: { allowed: true, by: 'rule', rule: 'team-a' },
      auth: ALICE,
      jti: 'j-1',
      args: { city: 'Oslo', units: 'metric' },
    });
    trail.upstreamStatus(200);
    expect(records).toEqual([]);
    trail.finish();
    trail.finish();
    await settled();
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      event: 'audit',
      host: 'broker',
      outcome: 'allowed',
      method: 'tools/call',
      server: 'team/weather',
      kind: 'tool',
      name: 'forecast',
      servedName: 'w_forecast',
      caller: { issuer: 'https://idp', subject: 'alice', clientId: 'app' },
      session: 'j-1',
      decidedBy: 'rule',
      rule: 'team-a',
      upstreamStatus: 200,
    });
    expect(records[0]?.argumentsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(records[0]).not.toHaveProperty('arguments');
    expect(JSON.stringify(records[0])).not.toContain('Oslo');
  });

  it('hashes equal arguments equally whatever their key order', async () => {
    const { auditor, records } = collect('hash');
    for (const args of [
      { a: 1, b: { c: 2, d: 3 } },
      { b: { d: 3, c: 2 }, a: 1 },
    ]) {
      auditor
        .begin({ method: 'tools/call', subject: SUBJECT, verdict: { allowed: true, by: 'open' }, auth: ALICE, args })
        .finish();
    }
    await settled();
    expect(records[0]?.argumentsSha256).toBe(records[1]?.argumentsSha256);
  });

  it('records a refusal with what decided it, no latency and no upstream status, and the values when configured', async () => {
    const { auditor, records } = collect('values');
    auditor
      .begin({
        method: 'tools/call',
        subject: SUBJECT,
        verdict: { allowed: false, because: 'virtual-server' },
        auth: { kind: 'credential', authorization: 'Bearer secret-token' },
        args: { city: 'Oslo' },
      })
      .finish();
    await settled();
    expect(records[0]).toMatchObject({
      outcome: 'denied',
      decidedBy: 'virtual-server',
      rule: null,
      caller: null,
      session: null,
      latencyMs: 0,
      upstreamStatus: null,
      arguments: { city: 'Oslo' },
    });
    expect(JSON.stringify(records)).not.toContain('secret-token');
  });

  it('writes nothing without an audit section or a sink', () => {
    expect(createAuditor(undefined, { write: () => {} }, 'broker', NOOP_LOGGER)).toBe(NO_AUDIT);
    expect(createAuditor({ arguments: 'hash' }, undefined, 'broker', NOOP_LOGGER)).toBe(NO_AUDIT);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: [{ z: 1, y: 2 }], a: null })).toBe('{"a":null,"b":[{"y":2,"z":1}]}');
  });
});
