import { decodeJsonSegment } from '../session/base64url.ts';
import type { UserCredential } from './credential-sealer.ts';
import { escapeHtml } from './page-http.ts';

/**
 * The paste form's rules (the anchor's): what a pasted token may be, what is stored of it, and
 * the HTML of the form and of the user's list. No script on any page.
 */

/** The longest token a user may paste (the anchor's 2048 characters). */
export const MAX_PASTED_TOKEN_LENGTH = 2048;
/** How long a pasted token is kept when nothing shortens it: one day. */
export const DEFAULT_PASTED_TOKEN_TTL_SECONDS = 86_400;

/** A pasted credential, or why it is refused. */
export type PastedTokenResult =
  { readonly ok: true; readonly credential: UserCredential } | { readonly ok: false; readonly error: string };

/**
 * The credential a pasted `token` makes: sent verbatim when it names its scheme (`Bearer x`),
 * else as `Bearer <token>`; kept until the JWT's `exp` when it is a JWT with one, at most
 * `ttlSeconds`.
 */
export function parsePastedToken(token: string, ttlSeconds: number, now = Date.now()): PastedTokenResult {
  if (token.length === 0) return { ok: false, error: 'token is required' };
  if (token.length > MAX_PASTED_TOKEN_LENGTH) {
    return { ok: false, error: `token exceeds maximum length of ${MAX_PASTED_TOKEN_LENGTH}` };
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(token)) return { ok: false, error: 'token contains invalid characters' };
  const trimmed = token.trim();
  const schemed = /^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]* +(\S+)$/.exec(trimmed);
  const bare = schemed?.[1] ?? trimmed;
  if (bare === '' || /\s/.test(bare)) return { ok: false, error: 'token is malformed' };
  const authorization = schemed === null ? `Bearer ${bare}` : trimmed;
  let expiresAt = now + ttlSeconds * 1000;
  const exp = jwtExpiry(bare);
  if (exp !== undefined) {
    if (exp <= now) return { ok: false, error: 'token has expired' };
    expiresAt = Math.min(expiresAt, exp);
  }
  return { ok: true, credential: { authorization, expiresAt } };
}

/** A JWT's `exp` in ms, or undefined when `token` is not a JWT with one (it is not verified here). */
function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  const claims = decodeJsonSegment(parts[1]);
  const exp = claims?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}

/** The paste form for elicitation `id` to `server`. */
export function pasteFormHtml(id: string, server: string, csrf: string): string {
  return `<p>The server <strong>${escapeHtml(server)}</strong> needs your own token.
Paste it below (for example <code>Bearer eyJ…</code>); it is stored encrypted and sent only to that server.</p>
<form method="post" action="/tokens">
<input type="hidden" name="elicitation_id" value="${escapeHtml(id)}">
<input type="hidden" name="csrf_token" value="${escapeHtml(csrf)}">
<label>Token <input type="password" name="token" maxlength="${MAX_PASTED_TOKEN_LENGTH}" autocomplete="off" required></label>
<button type="submit">Save token</button>
</form>`;
}

/** One stored credential as the list shows it: never the token. */
export interface ListedCredential {
  readonly server: string;
  readonly expiresAt: number;
}

/** The user's credentials with a remove form each. */
export function credentialListHtml(entries: readonly ListedCredential[], csrf: string): string {
  if (entries.length === 0) return '<p>You have no stored tokens.</p>';
  const rows = entries
    .map(
      ({
        server,
        expiresAt,
      }) => `<tr><td>${escapeHtml(server)}</td><td>${escapeHtml(new Date(expiresAt).toISOString())}</td>
<td><form method="post" action="/tokens/remove"><input type="hidden" name="csrf_token" value="${escapeHtml(csrf)}">
<input type="hidden" name="server" value="${escapeHtml(server)}"><button type="submit">Remove</button></form></td></tr>`,
    )
    .join('\n');
  return `<table><thead><tr><th>Server</th><th>Expires</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>`;
}
