// What an attacker presents: bearer credentials that copy a victim's claims without the victim's
// key, and session ids the gateway never issued (another key, alg none, truncated, garbage,
// expired). Every secret is unique per call, so a test can search the captured logs for it.
import { randomBytes, randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { TEST_SIGNING_KEY } from '../harness/index.ts';

/** A unique opaque bearer credential, e.g. `Bearer VICTIM-3f…`. */
export function opaqueBearer(label: string): string {
  return `Bearer ${label}-${randomUUID()}`;
}

/** The issuer and subject an attacker copies from the victim. */
export interface Subject {
  readonly iss: string;
  readonly sub: string;
}

/** A bearer JWT for `subject`, HS256-signed with `key` (a fresh key per call unless given). */
export async function signedBearer(subject: Subject, key = `idp-key-${randomUUID()}`): Promise<string> {
  const token = await new SignJWT({ scope: 'basic' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(subject.iss)
    .setSubject(subject.sub)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(key));
  return `Bearer ${token}`;
}

/** An unsigned bearer JWT (`alg: none`, empty signature) claiming `subject`. */
export function unsignedBearer(subject: Subject): string {
  const now = Math.floor(Date.now() / 1000);
  const header = base64url({ alg: 'none', typ: 'JWT' });
  const payload = base64url({ iss: subject.iss, sub: subject.sub, jti: randomUUID(), iat: now, exp: now + 3600 });
  return `Bearer ${header}.${payload}.`;
}

/** The credentials that claim the victim's iss/sub without being the victim's token. */
export async function impostorsOf(subject: Subject): Promise<readonly { what: string; authorization: string }[]> {
  return [
    { what: 'an unsigned JWT (alg none) of the same iss/sub', authorization: unsignedBearer(subject) },
    { what: 'a JWT of the same iss/sub signed by another key', authorization: await signedBearer(subject) },
  ];
}

/** A session id the gateway did not issue, and what it is. */
export interface ForgedSessionId {
  readonly what: string;
  readonly token: string;
}

/** The key of "another gateway": a valid length, not the test gateways' key. */
export const OTHER_GATEWAY_KEY = 'another-gateway-signing-key-0123456789abcdef';

/**
 * Session ids built from a real one (same claims, caller binding included) that no gateway with
 * TEST_SIGNING_KEY may accept: re-signed by another gateway's key, unsigned (alg none), cut short,
 * 10 kB of garbage, and signed with the right key but expired.
 */
export async function forgedSessionIds(real: string): Promise<ForgedSessionId[]> {
  const claims = decodeJwt(real);
  const now = Math.floor(Date.now() / 1000);
  const resign = (key: string, exp: number) =>
    new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(exp - 3600)
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(key));
  const [header, payload] = real.split('.');
  const unsignedHeader = base64url({ alg: 'none', typ: 'JWT' });
  return [
    { what: "a session id signed by another gateway's key", token: await resign(OTHER_GATEWAY_KEY, now + 3600) },
    { what: 'a session id with alg none', token: `${unsignedHeader}.${payload}.` },
    { what: 'a truncated session id', token: real.slice(0, real.length - 7) },
    { what: 'a session id with its header only', token: `${header}..` },
    { what: '10 kB of garbage', token: randomBytes(7_680).toString('base64url') },
    { what: 'an expired session id', token: await resign(TEST_SIGNING_KEY, now - 60) },
  ];
}

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
