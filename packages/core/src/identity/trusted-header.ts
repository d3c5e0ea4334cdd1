import { importSPKI, jwtVerify, type CryptoKey } from 'jose';
import type { Logger } from '../logger.ts';

/** The header the policy layer in front (Kuadrant's AuthPolicy wristband) signs: the anchor's interface. */
export const TRUSTED_HEADER = 'x-mcp-authorized';
/** The claim holding what the caller may use, a JSON string. */
export const CAPABILITIES_CLAIM = 'allowed-capabilities';
/** Longest `x-mcp-authorized` value read: 16 KiB. */
export const MAX_TRUSTED_HEADER_CHARS = 16 * 1024;

/** Per kind, per server config name, the upstream names (unprefixed) the caller may use. */
export interface Capabilities {
  readonly tools?: ReadonlyMap<string, ReadonlySet<string>>;
  readonly prompts?: ReadonlyMap<string, ReadonlySet<string>>;
  readonly resources?: ReadonlyMap<string, ReadonlySet<string>>;
}

/**
 * What a request's `x-mcp-authorized` header says: absent; present but not to be trusted
 * (unsigned, wrongly signed, expired, malformed: the caller may use nothing); or the verified
 * capabilities.
 */
export type TrustedHeader =
  | { readonly kind: 'absent' }
  | { readonly kind: 'invalid'; readonly reason: string }
  | { readonly kind: 'valid'; readonly capabilities: Capabilities };

export const ABSENT_HEADER: TrustedHeader = Object.freeze({ kind: 'absent' });

export interface TrustedHeaderVerifier {
  verify(value: string | null | undefined): Promise<TrustedHeader>;
}

/** A verifier that trusts no header (no public key configured): every present header is invalid. */
export const NO_TRUSTED_KEY: TrustedHeaderVerifier = {
  async verify(value) {
    if (value === null || value === undefined) return ABSENT_HEADER;
    return { kind: 'invalid', reason: 'no public key is configured to verify x-mcp-authorized' };
  },
};

/** DER of the OIDs an EC P-256 SubjectPublicKeyInfo names: id-ecPublicKey and prime256v1. */
const EC_PUBLIC_KEY_OID = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const P256_OID = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

/**
 * Checks a PEM public key for `x-mcp-authorized`: one PUBLIC KEY block holding an EC P-256
 * SubjectPublicKeyInfo, as the anchor requires. Undefined when usable, else what is wrong (for
 * config errors, at start and on reload, before any header is seen).
 */
export function checkTrustedHeaderKey(pem: string): string | undefined {
  const match = /-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]+)-----END PUBLIC KEY-----/.exec(pem);
  if (match === null) return 'must be a PEM public key (-----BEGIN PUBLIC KEY-----)';
  let der: Uint8Array;
  try {
    der = Uint8Array.from(atob((match[1] as string).replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  } catch {
    return 'must be a PEM public key (its base64 does not decode)';
  }
  if (!includes(der, EC_PUBLIC_KEY_OID) || !includes(der, P256_OID)) {
    return 'must be an EC P-256 public key (the header is signed with ES256)';
  }
  return undefined;
}

function includes(bytes: Uint8Array, pattern: readonly number[]): boolean {
  outer: for (let i = 0; i + pattern.length <= bytes.length; i++) {
    for (let j = 0; j < pattern.length; j++) if (bytes[i + j] !== pattern[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * Creates the verifier of `x-mcp-authorized`: an ES256 JWT (no other algorithm) signed by the
 * key whose public half is `publicKeyPem`, with an `allowed-capabilities` claim, a JSON string
 * `{"tools":{"<server>":["<tool>",…]},"prompts":{…},"resources":{…}}`. When the header has
 * several values the last is used (the policy layer appends its own after any a client sent).
 * Outcomes are cached per header value until the token's expiry (a minute without one).
 * @see /work/shared/reference/anchor-kuadrant.md §3.8
 */
export function createTrustedHeaderVerifier(options: {
  readonly publicKeyPem: string;
  readonly logger: Logger;
  readonly cacheSize?: number;
  readonly now?: () => number;
}): TrustedHeaderVerifier {
  const { logger } = options;
  const now = options.now ?? Date.now;
  const limit = options.cacheSize ?? 1024;
  let key: Promise<CryptoKey | undefined> | undefined;
  const cache = new Map<string, { readonly outcome: TrustedHeader; readonly until: number }>();

  const publicKey = () =>
    (key ??= importSPKI(options.publicKeyPem.trim(), 'ES256').catch((error: unknown) => {
      logger.error('the trusted header public key cannot be used', { error: String(error) });
      return undefined;
    }));

  async function check(token: string): Promise<{ outcome: TrustedHeader; until: number }> {
    const verifying = await publicKey();
    const minute = now() + 60_000;
    if (verifying === undefined) return { outcome: invalid('the public key cannot be used'), until: minute };
    let payload: Record<string, unknown>;
    try {
      payload = (await jwtVerify(token, verifying, { algorithms: ['ES256'], clockTolerance: 5 })).payload;
    } catch (error) {
      return { outcome: invalid(`not verified (${error instanceof Error ? error.name : 'error'})`), until: minute };
    }
    const until = typeof payload['exp'] === 'number' ? Math.min(payload['exp'] * 1000, minute) : minute;
    const claim = payload[CAPABILITIES_CLAIM];
    if (typeof claim !== 'string') return { outcome: invalid(`no ${CAPABILITIES_CLAIM} string claim`), until };
    const capabilities = parseCapabilities(claim);
    if (capabilities === undefined) return { outcome: invalid(`${CAPABILITIES_CLAIM} is not valid`), until };
    return { outcome: { kind: 'valid', capabilities }, until };
  }

  return {
    async verify(value) {
      if (value === null || value === undefined) return ABSENT_HEADER;
      if (value.length > MAX_TRUSTED_HEADER_CHARS) return invalid('the header is too large');
      const token = (value.split(',').at(-1) ?? '').trim();
      if (token === '') return invalid('the header is empty');
      const known = cache.get(token);
      if (known !== undefined && known.until > now()) return known.outcome;
      const checked = await check(token);
      if (checked.outcome.kind === 'invalid') {
        logger.warn('x-mcp-authorized ignored: it is not to be trusted', { reason: checked.outcome.reason });
      }
      if (cache.size >= limit) cache.delete(cache.keys().next().value as string);
      cache.set(token, checked);
      return checked.outcome;
    },
  };
}

function invalid(reason: string): TrustedHeader {
  return { kind: 'invalid', reason };
}

/** The claim's capabilities; undefined when it is not JSON of the documented shape. */
export function parseCapabilities(text: string): Capabilities | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value)) return undefined;
  const out: { -readonly [K in keyof Capabilities]: Capabilities[K] } = {};
  for (const kind of ['tools', 'prompts', 'resources'] as const) {
    const byServer = value[kind];
    if (byServer === undefined) continue;
    if (!isRecord(byServer)) return undefined;
    const map = new Map<string, ReadonlySet<string>>();
    for (const [server, names] of Object.entries(byServer)) {
      if (!Array.isArray(names) || !names.every((name) => typeof name === 'string')) return undefined;
      map.set(server, new Set(names as string[]));
    }
    out[kind] = map;
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
