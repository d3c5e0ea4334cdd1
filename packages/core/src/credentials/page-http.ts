import { readBytesWithin } from '../protocol/bytes.ts';
import { toBase64url } from '../session/base64url.ts';

/**
 * The HTTP pieces of the /tokens pages: security headers, HTML without script, JSON errors
 * (the anchor's `{"error": "…"}`), cookies, a size-bounded form body and a constant-time
 * comparison. Web-standard only (Request, Response, ReadableStream).
 */

/** Headers every /tokens response carries: no script, no framing, no referrer, no caching. */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
};

/** The largest form body a /tokens POST may carry (the anchor's 4096 bytes). */
export const MAX_FORM_BYTES = 4096;

/** A response with the security headers, `headers` and any `Set-Cookie` lines. */
export function pageResponse(
  body: string | null,
  status: number,
  headers: Readonly<Record<string, string>> = {},
  cookies: readonly string[] = [],
): Response {
  const out = new Headers({ ...PAGE_SECURITY_HEADERS, ...headers });
  for (const cookie of cookies) out.append('set-cookie', cookie);
  return new Response(body, { status, headers: out });
}

/** The anchor's error shape: `{"error": message}` with `status`. */
export function errorResponse(status: number, message: string, cookies: readonly string[] = []): Response {
  return pageResponse(JSON.stringify({ error: message }), status, { 'content-type': 'application/json' }, cookies);
}

/** An HTML page: `title` and `body` (already escaped HTML), no script anywhere. */
export function htmlResponse(title: string, body: string, cookies: readonly string[] = [], status = 200): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body><main><h1>${escapeHtml(title)}</h1>
${body}
</main></body></html>
`;
  return pageResponse(html, status, { 'content-type': 'text/html; charset=utf-8' }, cookies);
}

/** A 303 (after a POST) or 302 redirect to `location`. */
export function redirectResponse(location: string, cookies: readonly string[] = [], status = 302): Response {
  return pageResponse(null, status, { location }, cookies);
}

/** Text for HTML content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`=]/g, (char) => `&#${char.charCodeAt(0)};`);
}

export interface CookieOptions {
  readonly maxAge: number;
  readonly secure: boolean;
  readonly sameSite: 'Strict' | 'Lax';
}

/** A `Set-Cookie` value on Path=/tokens, HttpOnly. */
export function setCookie(name: string, value: string, options: CookieOptions): string {
  const secure = options.secure ? '; Secure' : '';
  return `${name}=${value}; Path=/tokens; Max-Age=${options.maxAge}; HttpOnly; SameSite=${options.sameSite}${secure}`;
}

/** The request's cookie `name`, or undefined. */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie');
  if (header === null) return undefined;
  for (const part of header.split(';')) {
    const equals = part.indexOf('=');
    if (equals > 0 && part.slice(0, equals).trim() === name) return part.slice(equals + 1).trim();
  }
  return undefined;
}

/** Result of reading a form body. */
export type FormResult =
  | { readonly ok: true; readonly form: URLSearchParams }
  | { readonly ok: false; readonly status: 400 | 413 | 415; readonly error: string };

/**
 * Reads a urlencoded form of at most `limit` bytes. A declared Content-Length over the limit is
 * refused before anything is read; a longer stream is cancelled as soon as it passes the limit.
 */
export async function readForm(request: Request, limit = MAX_FORM_BYTES): Promise<FormResult> {
  const type = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  const tooLarge = { ok: false, status: 413, error: 'request body too large' } as const;
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > limit) {
    await request.body?.cancel().catch(() => undefined);
    return tooLarge;
  }
  if (type !== 'application/x-www-form-urlencoded') {
    await request.body?.cancel().catch(() => undefined);
    return { ok: false, status: 415, error: 'expected an application/x-www-form-urlencoded form' };
  }
  const bytes = await readBytesWithin(request.body, limit);
  if (bytes === undefined) return tooLarge;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, status: 400, error: 'the form is not UTF-8' };
  }
  return { ok: true, form: new URLSearchParams(text) };
}

/** Whether two strings are equal, in time that depends only on their lengths. */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = new TextEncoder().encode(a);
  const right = new TextEncoder().encode(b);
  let diff = left.byteLength ^ right.byteLength;
  for (let i = 0; i < left.byteLength; i++) diff |= (left[i] as number) ^ (right[i % right.byteLength] ?? 0);
  return diff === 0;
}

/** A random URL-safe token of `bytes` random bytes. */
export function randomToken(bytes = 32): string {
  return toBase64url(crypto.getRandomValues(new Uint8Array(bytes)));
}
