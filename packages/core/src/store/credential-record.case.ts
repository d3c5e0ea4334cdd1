import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_CREDENTIAL_OWNER_LENGTH,
  MAX_CREDENTIAL_SERVER_LENGTH,
  MAX_CREDENTIAL_TTL_SECONDS,
  MAX_GRANT_BYTES,
  MAX_GRANT_ID_LENGTH,
  MAX_STORED_CREDENTIAL_BYTES,
} from './credential-record.ts';
import type { SessionStore } from './session-store.ts';

/** What `runSessionStoreCase` gives the credential cases: its store and its clock. */
export interface CredentialRecordCaseContext {
  /** The store of the current test. */
  store(): SessionStore;
  /** Moves the store's clock forward by `ms`. */
  advance(ms: number): void;
}

const HOUR = 3600;

/**
 * The behaviour of the credential methods (`readCredential` … `listCredentials`) and the
 * one-time grants (`putGrant`, `takeGrant`) every SessionStore must show; registered by
 * `runSessionStoreCase` inside its own describe, so that each implementation runs it.
 */
export function runCredentialRecordCase({ store, advance }: CredentialRecordCaseContext): void {
  // Fresh per test, so that shared backends (Redis) never see another test's entries.
  let owner: string;
  let other: string;
  let grant: string;
  beforeEach(() => {
    owner = crypto.randomUUID().replaceAll('-', '');
    other = crypto.randomUUID().replaceAll('-', '');
    grant = `te:${crypto.randomUUID()}`;
  });

  describe('credentials', () => {
    it('reads no credential for an owner who never stored one', async () => {
      expect(await store().readCredential(owner, 'tracker')).toBeUndefined();
      expect(await store().listCredentials(owner)).toEqual({});
    });

    it('reads a written credential back as written, and a rewrite replaces it', async () => {
      await store().writeCredential(owner, 'tracker', 'sealed-1', HOUR);
      expect(await store().readCredential(owner, 'tracker')).toBe('sealed-1');

      await store().writeCredential(owner, 'tracker', 'sealed-2', HOUR);
      expect(await store().readCredential(owner, 'tracker')).toBe('sealed-2');
      expect(await store().listCredentials(owner)).toEqual({ tracker: 'sealed-2' });
    });

    it("keeps one owner's credential from another owner of the same server", async () => {
      await store().writeCredential(owner, 'tracker', 'mine', HOUR);

      expect(await store().readCredential(other, 'tracker')).toBeUndefined();
      expect(await store().listCredentials(other)).toEqual({});
      expect(await store().deleteCredential(other, 'tracker')).toBe(false);
      expect(await store().readCredential(owner, 'tracker')).toBe('mine');
    });

    it("lists every credential an owner holds by server, and none of another owner's", async () => {
      await store().writeCredential(owner, 'tracker', 'sealed-t', HOUR);
      await store().writeCredential(owner, 'wiki', 'sealed-w', HOUR);
      await store().writeCredential(other, 'code', 'sealed-c', HOUR);

      expect(await store().listCredentials(owner)).toEqual({ tracker: 'sealed-t', wiki: 'sealed-w' });
    });

    it('deletes a credential once: true the first time, false after, and keeps the other servers', async () => {
      await store().writeCredential(owner, 'tracker', 'sealed-t', HOUR);
      await store().writeCredential(owner, 'wiki', 'sealed-w', HOUR);

      expect(await store().deleteCredential(owner, 'tracker')).toBe(true);
      expect(await store().deleteCredential(owner, 'tracker')).toBe(false);
      expect(await store().readCredential(owner, 'tracker')).toBeUndefined();
      expect(await store().listCredentials(owner)).toEqual({ wiki: 'sealed-w' });
    });

    it('forgets a credential once its TTL has passed', async () => {
      await store().writeCredential(owner, 'tracker', 'sealed', 10);

      advance(9_999);
      expect(await store().readCredential(owner, 'tracker')).toBe('sealed');

      advance(1);
      expect(await store().readCredential(owner, 'tracker')).toBeUndefined();
      expect(await store().deleteCredential(owner, 'tracker')).toBe(false);
    });

    it("gives each credential its own TTL: a shorter-lived one expires while its owner's others stay", async () => {
      await store().writeCredential(owner, 'wiki', 'sealed-w', 100);
      await store().writeCredential(owner, 'tracker', 'sealed-t', 100);
      advance(5_000);
      await store().writeCredential(owner, 'tracker', 'sealed-t2', 10);

      advance(10_000);
      expect(await store().readCredential(owner, 'tracker')).toBeUndefined();
      expect(await store().readCredential(owner, 'wiki')).toBe('sealed-w');
    });

    it('keeps a longer-lived credential after a shorter-lived one of the same owner expired', async () => {
      await store().writeCredential(owner, 'tracker', 'sealed-t', 10);
      await store().writeCredential(owner, 'wiki', 'sealed-w', 1_000);

      advance(500_000);
      expect(await store().listCredentials(owner)).toMatchObject({ wiki: 'sealed-w' });
      expect(await store().readCredential(owner, 'wiki')).toBe('sealed-w');
    });

    it(`keeps a sealed credential of ${MAX_STORED_CREDENTIAL_BYTES} bytes whole, for ${MAX_CREDENTIAL_TTL_SECONDS} s`, async () => {
      const server = 's'.repeat(MAX_CREDENTIAL_SERVER_LENGTH);
      const longest = owner.padEnd(MAX_CREDENTIAL_OWNER_LENGTH, 'o');
      const sealed = 'x'.repeat(MAX_STORED_CREDENTIAL_BYTES);
      await store().writeCredential(longest, server, sealed, MAX_CREDENTIAL_TTL_SECONDS);

      advance((MAX_CREDENTIAL_TTL_SECONDS - 1) * 1000);
      expect(await store().readCredential(longest, server)).toBe(sealed);
    });

    it('refuses an owner, a server, a sealed text or a TTL out of bounds with INVALID_PARAMS and keeps what was stored', async () => {
      await store().writeCredential(owner, 'tracker', 'kept', HOUR);
      const refused = [
        () => store().writeCredential('o'.repeat(MAX_CREDENTIAL_OWNER_LENGTH + 1), 'tracker', 'x', HOUR),
        () => store().writeCredential('', 'tracker', 'x', HOUR),
        () => store().writeCredential(owner, 's'.repeat(MAX_CREDENTIAL_SERVER_LENGTH + 1), 'x', HOUR),
        () => store().writeCredential(owner, 'tracker', 'x'.repeat(MAX_STORED_CREDENTIAL_BYTES + 1), HOUR),
        () => store().writeCredential(owner, 'tracker', '', HOUR),
        () => store().writeCredential(owner, 'tracker', 'x', 0),
        () => store().writeCredential(owner, 'tracker', 'x', MAX_CREDENTIAL_TTL_SECONDS + 1),
        () => store().readCredential('o'.repeat(MAX_CREDENTIAL_OWNER_LENGTH + 1), 'tracker'),
        () => store().deleteCredential(owner, 's'.repeat(MAX_CREDENTIAL_SERVER_LENGTH + 1)),
      ];

      for (const call of refused) await expect(call()).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
      expect(await store().listCredentials(owner)).toEqual({ tracker: 'kept' });
    });
  });

  describe('grants', () => {
    it('gives a grant to its first taker only', async () => {
      await store().putGrant(grant, '{"owner":"o1"}', 120);

      expect(await store().takeGrant(grant)).toBe('{"owner":"o1"}');
      expect(await store().takeGrant(grant)).toBeUndefined();
    });

    it('gives a grant to exactly one of two concurrent takers', async () => {
      await store().putGrant(grant, 'once', 120);

      const taken = await Promise.all([store().takeGrant(grant), store().takeGrant(grant)]);

      expect(taken.filter((value) => value !== undefined)).toEqual(['once']);
    });

    it('takes nothing for an unknown grant', async () => {
      expect(await store().takeGrant(grant)).toBeUndefined();
    });

    it('forgets a grant once its TTL has passed', async () => {
      await store().putGrant(grant, 'soon', 10);
      await store().putGrant(`${grant}-2`, 'later', 10);

      advance(9_999);
      expect(await store().takeGrant(grant)).toBe('soon');

      advance(1);
      expect(await store().takeGrant(`${grant}-2`)).toBeUndefined();
    });

    it(`keeps a grant of ${MAX_GRANT_BYTES} bytes whole`, async () => {
      const value = 'g'.repeat(MAX_GRANT_BYTES);
      await store().putGrant(grant, value, 600);

      expect(await store().takeGrant(grant)).toBe(value);
    });

    it('refuses a grant id, value or TTL out of bounds with INVALID_PARAMS and stores nothing', async () => {
      const refused = [
        () => store().putGrant('g'.repeat(MAX_GRANT_ID_LENGTH + 1), 'x', 120),
        () => store().putGrant('', 'x', 120),
        () => store().putGrant(grant, 'x'.repeat(MAX_GRANT_BYTES + 1), 120),
        () => store().putGrant(grant, 'x', 0),
        () => store().putGrant(grant, 'x', MAX_CREDENTIAL_TTL_SECONDS + 1),
      ];

      for (const call of refused) await expect(call()).rejects.toMatchObject({ code: 'INVALID_PARAMS' });
      expect(await store().takeGrant(grant)).toBeUndefined();
    });
  });
}
