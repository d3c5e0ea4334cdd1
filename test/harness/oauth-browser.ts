/** How the harness's user agent answers the provider's pages. */
export interface BrowserOptions {
  /** The name typed into the login form. */
  account: string;
  /** The client's redirect_uri: the walk ends at the first redirect to it, which is never fetched. */
  redirectUri: string | URL;
  /** Press Deny on the consent page instead of Allow. Default false. */
  deny?: boolean;
}

const MAX_STEPS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Plays the browser of an authorization code flow with fetch: opens `authorizationUrl`, follows
 * redirects, keeps cookies, signs in on the login form as `options.account`, submits the consent
 * form, and stops at the redirect to the client's redirect_uri. Resolves with that redirect's
 * query (`code`, `state`, `iss`, or `error` and `error_description`); rejects when a page is
 * neither a redirect nor a form, with its status and the start of its body.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1
 */
export async function authorizeInBrowser(authorizationUrl: URL, options: BrowserOptions): Promise<URLSearchParams> {
  const target = new URL(options.redirectUri);
  const jar = createCookieJar();
  let next: { url: URL; form?: URLSearchParams } = { url: authorizationUrl };

  for (let step = 0; step < MAX_STEPS; step += 1) {
    if (next.url.origin === target.origin && next.url.pathname === target.pathname) return next.url.searchParams;
    const headers: Record<string, string> = { accept: 'text/html' };
    const cookie = jar.header(next.url);
    if (cookie !== '') headers.cookie = cookie;
    if (next.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(next.url, {
      method: next.form ? 'POST' : 'GET',
      headers,
      ...(next.form ? { body: next.form } : {}),
      redirect: 'manual',
    });
    jar.store(next.url, response.headers.getSetCookie());

    const location = response.headers.get('location');
    if (REDIRECTS.has(response.status) && location !== null) {
      await response.body?.cancel();
      next = { url: new URL(location, next.url) };
      continue;
    }
    const body = await response.text();
    const form = response.ok ? chooseForm(parseForms(body), options) : undefined;
    if (form === undefined) {
      throw new Error(
        `authorizeInBrowser: stopped at ${next.url.pathname} (HTTP ${response.status}): ${body.slice(0, 500)}`,
      );
    }
    next = { url: new URL(form.action, next.url), form: form.fields };
  }
  throw new Error(`authorizeInBrowser: no redirect to ${target.href} after ${MAX_STEPS} steps`);
}

export interface Form {
  action: string;
  fields: URLSearchParams;
}

/** The login form gets the account name; on a consent page, Allow (or Deny when asked to). */
export function chooseForm(forms: Form[], options: Pick<BrowserOptions, 'account' | 'deny'>): Form | undefined {
  const login = forms.find((form) => form.fields.has('login'));
  if (login !== undefined) {
    login.fields.set('login', options.account);
    login.fields.set('password', 'any password will do');
    return login;
  }
  const denies = (form: Form) => /\/(?:abort|deny)$/.test(form.action);
  return forms.find((form) => denies(form) === (options.deny === true));
}

/** The POST forms of a page with their inputs' names and values (enough for the provider's own pages). */
export function parseForms(html: string): Form[] {
  const forms: Form[] = [];
  for (const [, attributes = '', inner = ''] of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const action = attribute(attributes, 'action');
    if (action === undefined || !/method=["']?post/i.test(attributes)) continue;
    const fields = new URLSearchParams();
    for (const [, input = ''] of inner.matchAll(/<input\b([^>]*)>/gi)) {
      const name = attribute(input, 'name');
      if (name !== undefined) fields.set(name, attribute(input, 'value') ?? '');
    }
    forms.push({ action: decodeEntities(action), fields });
  }
  return forms;
}

/** The value of attribute `name` in an HTML tag's attribute text, entities decoded. */
export function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(`\\b${name}=(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attributes);
  return match === null ? undefined : decodeEntities(match[1] ?? match[2] ?? match[3] ?? '');
}

/** HTML text with its character references (decimal, hex, and the ones pages here escape with) decoded. */
export function decodeEntities(text: string): string {
  return text
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/&#x([0-9a-f]+);/gi, (_, code: string) => String.fromCharCode(parseInt(code, 16)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

export interface CookieJar {
  header(url: URL): string;
  store(url: URL, setCookies: readonly string[]): void;
}

/** Cookies by host, name and path (host-only cookies: enough for the provider's and the gateway's). */
export function createCookieJar(): CookieJar {
  const cookies = new Map<string, { host: string; name: string; value: string; path: string }>();
  return {
    header: (url) =>
      [...cookies.values()]
        .filter((cookie) => cookie.host === url.host)
        .filter((cookie) => url.pathname === cookie.path || url.pathname.startsWith(cookie.path.replace(/\/?$/, '/')))
        .map((cookie) => `${cookie.name}=${cookie.value}`)
        .join('; '),
    store(url, setCookies) {
      for (const line of setCookies) {
        const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
        const equals = pair.indexOf('=');
        const name = pair.slice(0, equals);
        const value = pair.slice(equals + 1);
        const attr = (key: string) =>
          attributes.find((item) => item.toLowerCase().startsWith(`${key}=`))?.slice(key.length + 1);
        const path = attr('path') ?? (url.pathname.replace(/\/[^/]*$/, '') || '/');
        const expires = attr('expires');
        const maxAge = attr('max-age');
        const gone =
          value === '' ||
          (maxAge !== undefined && Number(maxAge) <= 0) ||
          (expires !== undefined && Date.parse(expires) <= Date.now());
        const key = `${url.host};${name};${path}`;
        if (gone) cookies.delete(key);
        else cookies.set(key, { host: url.host, name, value, path });
      }
    },
  };
}
