import fc from 'fast-check';
import { createBackendInitTokens } from '@mcp-gateway/core/router';
import { createSessionTokens } from '@mcp-gateway/core/testing';
import { describe, expect, it } from 'vitest';
import { createNodeHmacSha256 } from './node-hmac.ts';

const KEY = 'node-hmac-test-signing-key-0123456789abcdef';

describe('createNodeHmacSha256', () => {
  it('computes the MAC crypto.subtle computes, for any key and data', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 96 }), fc.uint8Array(), async (key, data) => {
        const subtleKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
        const expected = new Uint8Array(await crypto.subtle.sign('HMAC', subtleKey, data));

        const mac = createNodeHmacSha256(key).sign(data);

        expect(mac).toBeInstanceOf(Uint8Array);
        expect(new Uint8Array(mac as Uint8Array)).toEqual(expected);
      }),
    );
  });

  it('signs session tokens that a replica on the default HMAC accepts, and accepts its tokens', async () => {
    const onNode = createSessionTokens({ key: KEY, hmac: createNodeHmacSha256 });
    const onSubtle = createSessionTokens({ key: KEY });
    const input = { protocolVersion: '2025-11-25', clientCapabilities: {} };

    const fromNode = await onNode.issue(input);
    const fromSubtle = await onSubtle.issue(input);

    expect(await onSubtle.verify(fromNode.token)).toEqual({ ok: true, claims: fromNode.claims });
    expect(await onNode.verify(fromSubtle.token)).toEqual({ ok: true, claims: fromSubtle.claims });
    expect(await onSubtle.open(await onNode.seal({ step: 1 }, 60))).toEqual({ step: 1 });
  });

  it('signs backend-init tokens that a router on the default HMAC accepts', async () => {
    const token = await createBackendInitTokens({ key: KEY, hmac: createNodeHmacSha256 }).issue('a.mcp.local', 'a');

    expect(await createBackendInitTokens({ key: KEY }).verify(token, 'a.mcp.local')).toMatchObject({
      ok: true,
      claims: { host: 'a.mcp.local', server: 'a' },
    });
  });
});
