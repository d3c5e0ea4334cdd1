import { publicOrigin } from './public-origin.ts';
import { isGatewayError } from '../errors.ts';
import type { AuthOutcome } from '../identity/authentication.ts';
import type { Logger } from '../logger.ts';
import { callerIdentity } from '../session/caller-identity.ts';
import type { SessionStore } from '../store/session-store.ts';
import { createBrowserLogin, LOGIN_CALLBACK_PATH, type BrowserLoginConfig } from './browser-login.ts';
import type { CredentialSealer, UserCredential } from './credential-sealer.ts';
import {
  bindingOf,
  credentialHolder,
  parseTokenElicitation,
  storedCredentialTtlSeconds,
  TOKEN_ELICITATION_GRANT,
  type CredentialHolder,
  type TokenElicitation,
} from './credential-owner.ts';
import {
  constantTimeEqual,
  errorResponse,
  escapeHtml,
  htmlResponse,
  pageResponse,
  randomToken,
  readCookie,
  readForm,
  redirectResponse,
  setCookie,
} from './page-http.ts';
import {
  credentialListHtml,
  DEFAULT_PASTED_TOKEN_TTL_SECONDS,
  parsePastedToken,
  pasteFormHtml,
  type ListedCredential,
} from './token-paste.ts';
import type { UpstreamOAuthConfig } from './upstream-discovery.ts';
import { createUpstreamOAuth, UPSTREAM_OAUTH_CALLBACK_PATH } from './upstream-oauth.ts';

/**
 * The gateway's /tokens pages, where a user hands the gateway their own credential for an
 * upstream: the URL elicitation paste form (the anchor's CSRF cookie and form, limits and error
 * JSON, bound to the elicitation's user), the user's list with removal, the browser login, and
 * for an upstream with its own OAuth the authorization redirect and its callback.
 * @see https://modelcontextprotocol.io/specification/2025-11-25/client/elicitation#url-mode-elicitation-requests
 */

/** What the pages need of a server's config. */
export interface TokenPagesServer {
  readonly name: string;
  readonly url: string;
  /** `{}`: the built-in paste page; with `url` the elicitation points elsewhere (the page still works). */
  readonly tokenURLElicitation?: { readonly url?: string };
  readonly upstreamOAuth?: UpstreamOAuthConfig;
}

export interface TokenPagesDeps {
  readonly store: SessionStore;
  readonly sealer: CredentialSealer;
  /** How /mcp verifies a bearer token (AccessControl.authenticate). */
  authenticate(authorization: string | null | undefined): Promise<AuthOutcome>;
  /** The configured server of that name. */
  server(name: string): TokenPagesServer | undefined;
  /** The browser login (config `credentials.login`); undefined: only a bearer token identifies a user. */
  login(): BrowserLoginConfig | undefined;
  /** The gateway's public host (`--mcp-gateway-public-host`); the pages' origin is publicOrigin's. */
  readonly publicHost?: string;
  readonly fetch?: typeof fetch;
  readonly logger: Logger;
  /**
   * Called once the user answered elicitation `elicitationId` of legacy session `jti` (a token
   * stored): the host tells the session `notifications/elicitation/complete`.
   */
  completed?(elicitationId: string, jti: string): void;
  /** Called after a credential of `owner` for `server` was stored or removed (drop caches). */
  changed?(owner: string, server: string): void;
  /** How long a pasted token is kept at most (a JWT's exp shortens it). Default one day. */
  readonly pastedTokenTtlSeconds?: number;
}

export interface TokenPages {
  /** Answers any request under /tokens. */
  handle(request: Request): Promise<Response>;
}

/** The CSRF cookie and form field (the anchor's names) and the cookie's life. */
const CSRF_COOKIE = 'csrf';
const CSRF_FIELD = 'csrf_token';
const CSRF_MAX_AGE = 120;
const CSRF_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const ELICITATION_ID = /^[A-Za-z0-9_-]{1,100}$/;

type Who =
  | { readonly kind: 'user'; readonly holder: CredentialHolder }
  | { readonly kind: 'none' }
  | { readonly kind: 'refused'; readonly status: number; readonly error: string };

/** Makes the pages; see TokenPagesDeps. */
export function createTokenPages(deps: TokenPagesDeps): TokenPages {
  const fetcher = deps.fetch ?? fetch;
  const login = createBrowserLogin({ store: deps.store, sealer: deps.sealer, fetch: fetcher, logger: deps.logger });
  const upstream = createUpstreamOAuth({ store: deps.store, sealer: deps.sealer, fetch: fetcher, logger: deps.logger });
  const pastedTtl = deps.pastedTokenTtlSeconds ?? DEFAULT_PASTED_TOKEN_TTL_SECONDS;

  function originOf(request: Request): string {
    return publicOrigin(request, deps.publicHost);
  }

  async function identify(request: Request, bearerOnly = false): Promise<Who> {
    const authorization = request.headers.get('authorization');
    if (authorization !== null) {
      const outcome = await deps.authenticate(authorization);
      if (!outcome.ok) return { kind: 'refused', status: outcome.refusal.status, error: outcome.refusal.description };
      const holder = await credentialHolder(outcome.auth, await callerIdentity(outcome.auth));
      return holder === undefined ? { kind: 'none' } : { kind: 'user', holder };
    }
    if (bearerOnly) return { kind: 'none' };
    const holder = await login.user(request);
    return holder === undefined ? { kind: 'none' } : { kind: 'user', holder };
  }

  /** Where a browser without an identity goes: the login, coming back to `returnTo`. */
  async function toLogin(request: Request, returnTo: string): Promise<Response> {
    const config = deps.login();
    if (config === undefined)
      return errorResponse(401, 'sign in: present a bearer token (no browser login is configured)');
    return redirectResponse(await login.start(config, originOf(request), returnTo));
  }

  function csrfCookie(request: Request): { value: string; cookie: string } {
    const existing = readCookie(request, CSRF_COOKIE);
    const value = existing !== undefined && CSRF_SHAPE.test(existing) ? existing : randomToken(32);
    const secure = originOf(request).startsWith('https:');
    return { value, cookie: setCookie(CSRF_COOKIE, value, { maxAge: CSRF_MAX_AGE, secure, sameSite: 'Strict' }) };
  }

  /** The checks every form POST passes first: body size and type, Origin, CSRF. */
  async function formOf(request: Request): Promise<URLSearchParams | Response> {
    const read = await readForm(request);
    if (!read.ok) return errorResponse(read.status, read.error);
    const origin = request.headers.get('origin');
    if (origin !== null && origin !== originOf(request)) return errorResponse(403, 'cross-origin request refused');
    const cookie = readCookie(request, CSRF_COOKIE) ?? '';
    const field = read.form.get(CSRF_FIELD) ?? '';
    if (cookie === '' || field === '' || !constantTimeEqual(cookie, field)) {
      return errorResponse(403, 'invalid CSRF token');
    }
    return read.form;
  }

  async function store(holder: CredentialHolder, server: string, credential: UserCredential): Promise<void> {
    const sealed = await deps.sealer.seal(credential, bindingOf(holder, server));
    await deps.store.writeCredential(holder.owner, server, sealed, storedCredentialTtlSeconds(credential));
    deps.changed?.(holder.owner, server);
    deps.logger.info('a user credential was stored', { owner: holder.owner, server });
  }

  /** Takes elicitation `id`; `restore` puts it back as it was (for its remaining time). */
  async function takeElicitation(id: string) {
    const raw = await deps.store.takeGrant(TOKEN_ELICITATION_GRANT + id);
    const entry = parseTokenElicitation(raw);
    const restore = async () => {
      const remaining = entry === undefined ? 0 : Math.floor((entry.expiresAt - Date.now()) / 1000);
      if (raw !== undefined && remaining >= 1) await deps.store.putGrant(TOKEN_ELICITATION_GRANT + id, raw, remaining);
    };
    return { entry, restore };
  }

  /** Whether `who` may answer `entry`: its own user; an unverified caller's entry (no issuer) is answered by its id alone, as the anchor's entry without a subject. */
  /**
   * Only the caller it was made for answers an elicitation: the same verified user (a bearer
   * token or the login), or, for a caller known only by an unverified credential, a page
   * request carrying that same Authorization. A link passed to someone else is refused, so
   * nobody's credential is stored for another.
   */
  function mayAnswer(who: Who, entry: TokenElicitation): boolean {
    return who.kind === 'user' && who.holder.owner === entry.owner;
  }

  async function elicitationPage(request: Request, id: string): Promise<Response> {
    if (!ELICITATION_ID.test(id)) return errorResponse(400, 'invalid elicitation_id');
    const who = await identify(request);
    if (who.kind === 'refused') return errorResponse(who.status, who.error);
    const { entry, restore } = await takeElicitation(id);
    if (entry === undefined) return errorResponse(404, 'elicitation not found or expired');
    if (!mayAnswer(who, entry)) {
      await restore();
      if (who.kind === 'none') return toLogin(request, `/tokens?elicitation_id=${encodeURIComponent(id)}`);
      return errorResponse(403, 'this elicitation belongs to another user');
    }
    const server = deps.server(entry.server);
    if (server?.upstreamOAuth !== undefined) {
      // The elicitation is used up once the authorization starts: its own state carries it on.
      // One that cannot start (its server unreachable) is kept, so the link works once it is back.
      const holder = { owner: entry.owner, issuer: entry.issuer, subject: entry.subject };
      const elicitation = { id, ...(entry.jti !== undefined && { jti: entry.jti }) };
      let location: string;
      try {
        location = await upstream.authorize(
          { ...server, upstreamOAuth: server.upstreamOAuth },
          holder,
          originOf(request),
          elicitation,
        );
      } catch (error) {
        await restore();
        throw error;
      }
      return redirectResponse(location);
    }
    await restore();
    const csrf = csrfCookie(request);
    return htmlResponse('Authorization required', pasteFormHtml(id, entry.server, csrf.value), [csrf.cookie]);
  }

  async function paste(request: Request): Promise<Response> {
    const form = await formOf(request);
    if (form instanceof Response) return form;
    const id = form.get('elicitation_id') ?? '';
    if (!ELICITATION_ID.test(id)) return errorResponse(400, 'invalid elicitation_id');
    const pasted = parsePastedToken(form.get('token') ?? '', pastedTtl);
    if (!pasted.ok) return errorResponse(400, pasted.error);
    const who = await identify(request);
    if (who.kind === 'refused') return errorResponse(who.status, who.error);
    const { entry, restore } = await takeElicitation(id);
    if (entry === undefined) return errorResponse(404, 'elicitation not found or expired');
    if (!mayAnswer(who, entry)) {
      // Not used up by someone else: its own user can still answer it.
      await restore();
      return who.kind === 'none'
        ? errorResponse(401, 'sign in to answer this elicitation')
        : errorResponse(403, 'this elicitation belongs to another user');
    }
    const server = deps.server(entry.server);
    if (server?.tokenURLElicitation === undefined)
      return errorResponse(404, 'the server no longer takes pasted tokens');
    await store({ owner: entry.owner, issuer: entry.issuer, subject: entry.subject }, entry.server, pasted.credential);
    if (entry.jti !== undefined) deps.completed?.(id, entry.jti);
    return htmlResponse(
      'Token saved',
      `<p>Your token for <strong>${escapeHtml(entry.server)}</strong> is saved. Return to your client and try again.</p>`,
    );
  }

  async function list(request: Request): Promise<Response> {
    const who = await identify(request);
    if (who.kind === 'refused') return errorResponse(who.status, who.error);
    if (who.kind === 'none') return toLogin(request, '/tokens');
    const held = await deps.store.listCredentials(who.holder.owner);
    const entries: ListedCredential[] = [];
    for (const [server, sealed] of Object.entries(held)) {
      const opened = await deps.sealer.open(sealed, bindingOf(who.holder, server));
      if (opened !== undefined) entries.push({ server, expiresAt: opened.expiresAt });
    }
    entries.sort((a, b) => a.server.localeCompare(b.server));
    const csrf = csrfCookie(request);
    return htmlResponse('Your tokens', credentialListHtml(entries, csrf.value), [csrf.cookie]);
  }

  async function remove(holder: CredentialHolder, server: string): Promise<boolean> {
    const removed = await deps.store.deleteCredential(holder.owner, server);
    deps.changed?.(holder.owner, server);
    if (removed) deps.logger.info('a user credential was removed', { owner: holder.owner, server });
    return removed;
  }

  async function removeByForm(request: Request): Promise<Response> {
    const form = await formOf(request);
    if (form instanceof Response) return form;
    const server = form.get('server') ?? '';
    if (server === '' || server.length > 256) return errorResponse(400, 'invalid server');
    const who = await identify(request);
    if (who.kind === 'refused') return errorResponse(who.status, who.error);
    if (who.kind === 'none') return errorResponse(401, 'sign in to remove a token');
    await remove(who.holder, server);
    return redirectResponse('/tokens', [], 303);
  }

  async function removeByBearer(request: Request, server: string): Promise<Response> {
    if (server === '' || server.length > 256) return errorResponse(400, 'invalid server');
    const who = await identify(request, true);
    if (who.kind === 'refused') return errorResponse(who.status, who.error);
    if (who.kind === 'none') return errorResponse(401, 'a bearer token is required');
    return (await remove(who.holder, server))
      ? pageResponse(null, 204)
      : errorResponse(404, 'no token stored for that server');
  }

  async function loginCallback(request: Request): Promise<Response> {
    const config = deps.login();
    if (config === undefined) return errorResponse(404, 'not found');
    const done = await login.finish(config, originOf(request), new URL(request.url));
    if (!done.ok) return errorResponse(done.status, done.error);
    const returnTo = /^\/tokens(?:[/?]|$)/.test(done.returnTo) ? done.returnTo : '/tokens';
    return redirectResponse(returnTo, [done.cookie], 303);
  }

  async function oauthCallback(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const who = await identify(request);
    if (who.kind === 'refused') return errorResponse(who.status, who.error);
    if (who.kind === 'none') return toLogin(request, `${UPSTREAM_OAUTH_CALLBACK_PATH}${url.search}`);
    const done = await upstream.finish(url, who.holder);
    if (!done.ok) return errorResponse(done.status, done.error);
    await store(done.holder, done.server, done.credential);
    if (done.elicitation?.jti !== undefined) deps.completed?.(done.elicitation.id, done.elicitation.jti);
    return htmlResponse('Authorized', '<p>The gateway is authorized. Return to your client and try again.</p>');
  }

  async function route(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = request.method;
    if (path === '/tokens') {
      if (method === 'GET') {
        const id = url.searchParams.get('elicitation_id');
        return id === null ? list(request) : elicitationPage(request, id);
      }
      return method === 'POST' ? paste(request) : errorResponse(405, 'method not allowed');
    }
    if (path === '/tokens/remove')
      return method === 'POST' ? removeByForm(request) : errorResponse(405, 'method not allowed');
    if (path === LOGIN_CALLBACK_PATH)
      return method === 'GET' ? loginCallback(request) : errorResponse(405, 'method not allowed');
    if (path === UPSTREAM_OAUTH_CALLBACK_PATH) {
      return method === 'GET' ? oauthCallback(request) : errorResponse(405, 'method not allowed');
    }
    // A controller-named server is `namespace/name`: taken as is or percent-encoded.
    const server = /^\/tokens\/(.+)$/.exec(path)?.[1];
    if (server !== undefined && method === 'DELETE') return removeByBearer(request, safeDecode(server));
    return errorResponse(404, 'not found');
  }

  return {
    async handle(request) {
      try {
        return await route(request);
      } catch (error) {
        if (isGatewayError(error) && error.expose) return errorResponse(error.status, error.message);
        const reference = crypto.randomUUID();
        deps.logger.error('a /tokens request failed', { reference, error: String(error) });
        return errorResponse(500, `Internal error (reference ${reference})`);
      }
    },
  };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return '';
  }
}
