import { describe, expect, it } from 'vitest';
import { fromBase64url, toBase64url } from '../session/base64url.ts';
import { createCredentialSealer, parseCredentialSecrets, type CredentialBinding } from './credential-sealer.ts';

const alice: CredentialBinding = { issuer: 'https://idp.example', subject: 'alice', server: 'tracker' };
const secret = (fill: string) => new TextEncoder().encode(fill.repeat(32));
const NOW = 1_800_000_000_000;
const credential = { authorization: 'Bearer alice-token', expiresAt: NOW + 60_000 };

describe('the credential sealer', () => {
  it('opens what it sealed for the same binding, and shows nothing of the credential in the record', async () => {
    const sealer = await createCredentialSealer([secret('a')]);
    const sealed = await sealer.seal(credential, alice);
    expect(sealed).toMatch(/^c1\.[\w-]{8}\.[\w-]+$/);
    expect(sealed).not.toContain('alice');
    expect(await sealer.open(sealed, alice, NOW)).toEqual(credential);
    // Two seals of one credential differ (a fresh IV each time).
    expect(await sealer.seal(credential, alice)).not.toBe(sealed);
  });

  it('does not open a record for another subject, issuer or server', async () => {
    const sealer = await createCredentialSealer([secret('a')]);
    const sealed = await sealer.seal(credential, alice);
    for (const other of [
      { ...alice, subject: 'bob' },
      { ...alice, issuer: 'https://evil.example' },
      { ...alice, server: 'wiki' },
    ]) {
      expect(await sealer.open(sealed, other, NOW)).toBeUndefined();
    }
  });

  it('does not open a tampered, truncated or malformed record, and never throws', async () => {
    const sealer = await createCredentialSealer([secret('a')]);
    const sealed = await sealer.seal(credential, alice);
    const [format, id, data] = sealed.split('.') as [string, string, string];
    const bytes = fromBase64url(data)!;
    bytes[20] = (bytes[20] as number) ^ 1;
    const tampered = `${format}.${id}.${toBase64url(bytes)}`;
    for (const bad of [
      tampered,
      sealed.slice(0, -4),
      `${sealed}.x`,
      'c1..',
      '',
      'x'.repeat(100_000),
      `c2.${id}.${data}`,
    ]) {
      expect(await sealer.open(bad, alice, NOW), bad.slice(0, 40)).toBeUndefined();
    }
  });

  it('reads an expired credential as none', async () => {
    const sealer = await createCredentialSealer([secret('a')]);
    const sealed = await sealer.seal(credential, alice);
    expect(await sealer.open(sealed, alice, credential.expiresAt)).toBeUndefined();
  });

  it('seals with the newest key, opens with any listed key, and not with a key rotated out', async () => {
    const old = await createCredentialSealer([secret('a')]);
    const sealedOld = await old.seal(credential, alice);
    const rotated = await createCredentialSealer([secret('b'), secret('a')]);
    expect(await rotated.open(sealedOld, alice, NOW)).toEqual(credential);
    const sealedNew = await rotated.seal(credential, alice);
    expect(sealedNew.split('.')[1]).not.toBe(sealedOld.split('.')[1]);
    expect(await old.open(sealedNew, alice, NOW)).toBeUndefined();
    const dropped = await createCredentialSealer([secret('b')]);
    expect(await dropped.open(sealedOld, alice, NOW)).toBeUndefined();
    expect(await dropped.open(sealedNew, alice, NOW)).toEqual(credential);
  });

  it('refuses keys shorter than 32 bytes, no key at all, and credentials over 8 KiB', async () => {
    await expect(createCredentialSealer([])).rejects.toThrow(/at least one key/);
    await expect(createCredentialSealer([secret('a'), new Uint8Array(16)])).rejects.toThrow(
      /key 2 is 16 bytes; at least 32/,
    );
    const sealer = await createCredentialSealer([secret('a')]);
    await expect(sealer.seal({ authorization: 'x'.repeat(9_000), expiresAt: NOW }, alice)).rejects.toThrow(
      /longer than 8192 bytes/,
    );
  });

  it('reads secrets separated by commas or whitespace, newest first', () => {
    expect(parseCredentialSecrets(' k1,k2\n k3 ').map((s) => new TextDecoder().decode(s))).toEqual(['k1', 'k2', 'k3']);
  });
});
