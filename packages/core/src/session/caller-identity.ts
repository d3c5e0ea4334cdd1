import { decodeJwt } from 'jose';

/**
 * Derives the identity a session is bound to from the request's `Authorization` header:
 * a hash of the bearer JWT's issuer and subject (so a refreshed token of the same user keeps the
 * session), or of the whole token when it is not a JWT with a subject; any other scheme
 * (e.g. Basic) is hashed whole. Undefined when the request carries no Authorization header.
 * The token itself is never stored or logged.
 * The signature is not checked here: authentication is the job of the policy in front of the
 * gateway; the binding only stops one caller from riding another caller's session id.
 */
export async function callerIdentity(authorization: string | null | undefined): Promise<string | undefined> {
  if (authorization === null || authorization === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (match === null) return hashText(`raw:${authorization}`);
  const token = match[1] as string;
  let subject: string | undefined;
  try {
    const payload = decodeJwt(token);
    // JSON keeps the pair unambiguous: with a plain separator, iss "a|b" + sub "c" and iss "a" + sub "b|c" collide.
    if (typeof payload.sub === 'string' && payload.sub !== '') {
      subject = JSON.stringify([payload.iss ?? '', payload.sub]);
    }
  } catch {
    subject = undefined;
  }
  return hashText(subject === undefined ? `tok:${token}` : `sub:${subject}`);
}

async function hashText(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)));
  let out = '';
  for (let i = 0; i < 16; i++) out += (digest[i] as number).toString(16).padStart(2, '0');
  return out;
}
