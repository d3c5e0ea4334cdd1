import { chooseForm, createCookieJar, parseForms, type Form } from './oauth-browser.ts';

/** One page a {@link WebBrowser} stopped at. */
export interface BrowserPage {
  readonly url: URL;
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
  /** The page's POST forms. */
  readonly forms: Form[];
}

export interface WebBrowserOptions {
  /** The name typed into the providers' login forms. */
  account: string;
  /** Origins of OpenID providers whose login and consent pages the browser answers by itself. */
  providers: readonly string[];
}

export interface SubmitOptions {
  /** The Origin header sent; default the form page's origin (as a browser sends); null sends none. */
  origin?: string | null;
}

export interface WebBrowser {
  /**
   * GETs `url`, follows redirects with its cookies, signs in and consents on the providers'
   * pages, and resolves with the first page that is neither a redirect nor a provider's page.
   */
  open(url: string | URL): Promise<BrowserPage>;
  /** Submits `form` of `page` (fields overridden by `fields`), then goes on as `open` does. */
  submit(page: BrowserPage, form: Form, fields?: Record<string, string>, options?: SubmitOptions): Promise<BrowserPage>;
  /** The Cookie header the browser sends to `url`. */
  cookieHeader(url: string | URL): string;
}

const MAX_STEPS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * A user agent played with fetch across several sites (the gateway and OpenID providers): one
 * cookie jar per host, redirects followed, the providers' login and consent forms answered as
 * `options.account`, and forms posted with the Origin a browser sends. Its pages have no script,
 * so nothing more of a browser is needed.
 */
export function createWebBrowser(options: WebBrowserOptions): WebBrowser {
  const jar = createCookieJar();
  const providers = new Set(options.providers.map((origin) => new URL(origin).origin));

  async function go(start: { url: URL; form?: URLSearchParams; origin?: string | null }): Promise<BrowserPage> {
    let next = start;
    for (let step = 0; step < MAX_STEPS; step += 1) {
      const headers: Record<string, string> = { accept: 'text/html' };
      const cookie = jar.header(next.url);
      if (cookie !== '') headers.cookie = cookie;
      if (next.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        if (next.origin !== null) headers.origin = next.origin ?? next.url.origin;
      }
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
      const forms = parseForms(body);
      if (providers.has(next.url.origin) && response.ok) {
        const form = chooseForm(forms, { account: options.account });
        if (form === undefined)
          throw new Error(`web browser: no form to answer at ${next.url.href}: ${body.slice(0, 300)}`);
        next = { url: new URL(form.action, next.url), form: form.fields, origin: next.url.origin };
        continue;
      }
      return { url: next.url, status: response.status, headers: response.headers, body, forms };
    }
    throw new Error(`web browser: more than ${MAX_STEPS} steps from ${start.url.href}`);
  }

  return {
    open: (url) => go({ url: new URL(url) }),
    submit(page, form, fields = {}, submitOptions = {}) {
      const body = new URLSearchParams(form.fields);
      for (const [name, value] of Object.entries(fields)) body.set(name, value);
      const origin = submitOptions.origin === undefined ? page.url.origin : submitOptions.origin;
      return go({ url: new URL(form.action, page.url), form: body, origin });
    },
    cookieHeader: (url) => jar.header(new URL(url)),
  };
}
