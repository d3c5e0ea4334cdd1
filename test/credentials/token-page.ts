// The browser of the /tokens pages, played by fetch (the pages carry no script: plain HTML forms,
// issue 15's design): it opens a URL the gateway gave out, follows redirects, signs in at the
// OpenID provider when the gateway sends it there (the provider's own pages, by authorizeInBrowser),
// keeps the gateway's cookies (csrf, mcpgw_login), and submits the pages' forms with the Origin
// a browser would send.
import { attribute, decodeEntities } from '../harness/oauth-browser.ts';
import { authorizeInBrowser } from '../harness/identity.ts';

/** Options of {@link createTokenPageBrowser}. */
export interface TokenPageBrowserOptions {
  /** Where the gateway is reached, `http://127.0.0.1:<port>`. */
  readonly baseUrl: string;
  /**
   * Hosts the gateway names itself by in its URLs (its public host, e.g. `mcp.example.com`):
   * a URL there is fetched at `baseUrl`, as DNS would send a browser to it.
   */
  readonly publicHosts?: readonly string[];
  /** Who signs in at the provider when the gateway redirects there. */
  readonly account?: string;
  /** Instead of signing in: an Authorization sent with every page request (a verified bearer). */
  readonly bearer?: string;
}

/** A page the browser ended on. */
export interface PageAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The URL as the gateway named it (its public origin). */
  readonly url: URL;
  /** The body parsed as JSON, when it is JSON. */
  readonly json: unknown;
}

/** A POST form of a page, its action resolved and its fields as the page filled them. */
export interface PageForm {
  readonly action: URL;
  readonly fields: URLSearchParams;
}

/** How to submit a form. */
export interface SubmitOptions {
  /** The Origin header; default the origin of the form's action; null sends none. */
  readonly origin?: string | null;
  /** Replaces the request body (e.g. one far over the pages' limit). */
  readonly body?: string;
}

/** The browser; one per user, its cookies its own. */
export interface TokenPageBrowser {
  /** GETs `url`, following redirects (signing in at the provider), to the page it ends on. */
  open(url: string | URL): Promise<PageAnswer>;
  /** POSTs `form` with `overrides` set in its fields; the answer, redirects followed. */
  submit(form: PageForm, overrides?: Readonly<Record<string, string>>, options?: SubmitOptions): Promise<PageAnswer>;
  /** Opens the elicitation URL and submits its form with `token`: the whole paste. */
  pasteToken(elicitationUrl: string | URL, token: string): Promise<PageAnswer>;
  /** Opens `/tokens` (the user's stored credentials) and submits the remove form of `server`. */
  removeViaPage(server: string): Promise<PageAnswer>;
  /** The gateway's cookies this browser holds, by name. */
  cookies(): ReadonlyMap<string, string>;
}

const MAX_STEPS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A browser for the gateway at `options.baseUrl`. */
export function createTokenPageBrowser(options: TokenPageBrowserOptions): TokenPageBrowser {
  const base = new URL(options.baseUrl);
  const hosts = new Set([base.host, ...(options.publicHosts ?? [])]);
  const jar = new Map<string, { value: string; path: string }>();
  // Where a user reaches the gateway: its public host when it has one (the pages check Origin against it).
  const firstPublic = options.publicHosts?.[0];
  let publicOrigin = firstPublic === undefined ? base.origin : `${base.protocol}//${firstPublic}`;

  const isGateway = (url: URL) => hosts.has(url.host);
  const reach = (url: URL) => new URL(`${url.pathname}${url.search}`, base);

  const cookieHeader = (url: URL) =>
    [...jar.entries()]
      .filter(([, cookie]) => url.pathname === cookie.path || url.pathname.startsWith(`${cookie.path}/`))
      .map(([name, cookie]) => `${name}=${cookie.value}`)
      .join('; ');

  const storeCookies = (response: Response) => {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      const attr = (key: string) =>
        attributes.find((item) => item.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
      const maxAge = attr('max-age');
      const expires = attr('expires');
      const gone =
        value === '' ||
        (maxAge !== undefined && Number(maxAge) <= 0) ||
        (expires !== undefined && Date.parse(expires) <= Date.now());
      if (gone) jar.delete(name);
      else jar.set(name, { value, path: attr('path') ?? '/' });
    }
  };

  /** One request to the gateway; `url` as the gateway names it. */
  const send = async (url: URL, init: { method: string; body?: string; origin?: string | null }) => {
    const target = reach(url);
    const headers: Record<string, string> = { accept: 'text/html, application/json' };
    const cookie = cookieHeader(target);
    if (cookie !== '') headers['cookie'] = cookie;
    if (options.bearer !== undefined) headers['authorization'] = options.bearer;
    if (init.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (init.origin !== undefined && init.origin !== null) headers['origin'] = init.origin;
    const response = await fetch(target, {
      method: init.method,
      headers,
      redirect: 'manual',
      ...(init.body === undefined ? {} : { body: init.body }),
    });
    storeCookies(response);
    return response;
  };

  /** Follows redirects from `first` (a response to `url`) to the page they end on. */
  const follow = async (url: URL, first: Response): Promise<PageAnswer> => {
    let response = first;
    let at = url;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const location = response.headers.get('location');
      if (!REDIRECTS.has(response.status) || location === null) return toAnswer(response, at);
      await response.body?.cancel();
      let next = new URL(location, at);
      if (!isGateway(next)) next = await signIn(next);
      at = next;
      response = await send(next, { method: 'GET' });
    }
    throw new Error(`token page browser: more than ${MAX_STEPS} redirects from ${url.href}`);
  };

  /** Signs in at the provider's authorization URL; the gateway callback URL it sends the browser back to. */
  const signIn = async (authorization: URL): Promise<URL> => {
    const redirectUri = authorization.searchParams.get('redirect_uri');
    if (redirectUri === null || options.account === undefined) {
      throw new Error(
        `token page browser: sent to ${authorization.origin}${authorization.pathname} with ${
          options.account === undefined ? 'no account to sign in as' : 'no redirect_uri'
        }`,
      );
    }
    const answer = await authorizeInBrowser(authorization, { account: options.account, redirectUri });
    const callback = new URL(redirectUri);
    callback.search = answer.toString();
    if (!isGateway(callback)) throw new Error(`token page browser: the login returns to ${callback.origin}`);
    return callback;
  };

  const browser: TokenPageBrowser = {
    async open(input) {
      const url = new URL(input, publicOrigin);
      if (!isGateway(url)) throw new Error(`token page browser: ${url.origin} is not the gateway`);
      publicOrigin = url.origin;
      return follow(url, await send(url, { method: 'GET' }));
    },
    async submit(form, overrides = {}, submitOptions = {}) {
      const fields = new URLSearchParams(form.fields);
      for (const [name, value] of Object.entries(overrides)) fields.set(name, value);
      const origin = submitOptions.origin === undefined ? form.action.origin : submitOptions.origin;
      const body = submitOptions.body ?? fields.toString();
      return follow(form.action, await send(form.action, { method: 'POST', body, origin }));
    },
    async pasteToken(elicitationUrl, token) {
      const page = await browser.open(elicitationUrl);
      const form = formsOf(page).find((candidate) => candidate.fields.has('elicitation_id'));
      if (form === undefined) {
        throw new Error(
          `token page browser: no paste form at ${page.url.pathname} (HTTP ${page.status}): ${page.text.slice(0, 300)}`,
        );
      }
      return browser.submit(form, { token });
    },
    async removeViaPage(server) {
      const page = await browser.open(new URL('/tokens', publicOrigin));
      const form = formsOf(page).find(
        (candidate) =>
          candidate.action.pathname === '/tokens/remove' && [...candidate.fields.values()].includes(server),
      );
      if (form === undefined)
        throw new Error(`token page browser: no remove form for ${server}: ${page.text.slice(0, 300)}`);
      return browser.submit(form);
    },
    cookies: () => new Map([...jar.entries()].map(([name, cookie]) => [name, cookie.value])),
  };
  return browser;
}

async function toAnswer(response: Response, url: URL): Promise<PageAnswer> {
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, url, json };
}

/** The POST forms of a page: inputs and textareas by name, with the values the page gave them. */
export function formsOf(page: PageAnswer): PageForm[] {
  const forms: PageForm[] = [];
  for (const [, attributes = '', inner = ''] of page.text.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    if (!/method=["']?post/i.test(attributes)) continue;
    const fields = new URLSearchParams();
    for (const [, input = ''] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const name = attribute(input, 'name');
      if (name !== undefined) fields.set(name, attribute(input, 'value') ?? '');
    }
    for (const [, textarea = '', content = ''] of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const name = attribute(textarea, 'name');
      if (name !== undefined) fields.set(name, decodeEntities(content));
    }
    forms.push({ action: new URL(attribute(attributes, 'action') ?? page.url.href, page.url), fields });
  }
  return forms;
}
