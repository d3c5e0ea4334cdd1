import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebBrowser, BrowserPage } from '../harness/web-browser.ts';
import { ownerOf, startPagesFixture, type PagesFixture } from './pages-fixture.ts';

const SERVERS = {
  tracker: { name: 'tracker', url: 'http://127.0.0.1:9/mcp', tokenURLElicitation: {} },
  wiki: { name: 'wiki', url: 'http://127.0.0.1:9/mcp', tokenURLElicitation: {} },
};

let fx: PagesFixture;
let alice: WebBrowser;
let bob: WebBrowser;

beforeAll(async () => {
  fx = await startPagesFixture({ servers: SERVERS });
  alice = fx.browser('alice');
  bob = fx.browser('bob');
});
afterAll(async () => {
  await fx?.stop();
});

/** The paste form of a page, or a failure that shows the page. */
function pasteForm(page: BrowserPage) {
  const form = page.forms.find((candidate) => candidate.fields.has('elicitation_id'));
  if (form === undefined) throw new Error(`no paste form (HTTP ${page.status}): ${page.body.slice(0, 300)}`);
  return form;
}

/** A form POST to the pages with exactly these headers (what a hostile page or client could send). */
function post(path: string, body: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${fx.server.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
    redirect: 'manual',
  });
}

describe('the paste form', () => {
  it('signs alice in and stores her pasted token sealed, opening only for her binding', async () => {
    const id = await fx.elicit('alice', 'tracker');
    const page = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    expect(page.url.pathname).toBe('/tokens');
    expect(page.status).toBe(200);
    const upstreamToken = (
      await fx.op.userToken({ account: 'alice', resource: SERVERS.tracker.url, scope: 'mcp:tools' })
    ).accessToken;

    const done = await alice.submit(page, pasteForm(page), { token: upstreamToken });
    expect(done.status).toBe(200);
    expect(done.body).toContain('Token saved');

    const owner = ownerOf(fx.op.issuer, 'alice');
    const sealed = (await fx.store.listCredentials(owner)).tracker;
    expect(sealed).toBeDefined();
    expect(sealed).not.toContain(upstreamToken);
    expect(sealed).not.toContain(upstreamToken.split('.')[1]);
    const opened = await fx.sealer.open(sealed!, { issuer: fx.op.issuer, subject: 'alice', server: 'tracker' });
    expect(opened?.authorization).toBe(`Bearer ${upstreamToken}`);
    // A JWT's own exp (300 s) bounds it, under the configured hour.
    const exp = JSON.parse(Buffer.from(upstreamToken.split('.')[1]!, 'base64url').toString()).exp as number;
    expect(opened?.expiresAt).toBe(exp * 1000);
    expect(await fx.sealer.open(sealed!, { issuer: fx.op.issuer, subject: 'bob', server: 'tracker' })).toBeUndefined();
    expect(await fx.sealer.open(sealed!, { issuer: fx.op.issuer, subject: 'alice', server: 'wiki' })).toBeUndefined();
    expect(fx.changed).toContainEqual({ owner, server: 'tracker' });
  });

  it('keeps a token that names its scheme verbatim', async () => {
    const id = await fx.elicit('alice', 'wiki');
    const page = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    expect((await alice.submit(page, pasteForm(page), { token: 'Token wiki-secret-1' })).status).toBe(200);
    const sealed = (await fx.store.listCredentials(ownerOf(fx.op.issuer, 'alice'))).wiki!;
    const opened = await fx.sealer.open(sealed, { issuer: fx.op.issuer, subject: 'alice', server: 'wiki' });
    expect(opened?.authorization).toBe('Token wiki-secret-1');
  });

  it("refuses bob alice's elicitation, which alice can still answer afterwards", async () => {
    const id = await fx.elicit('alice', 'tracker');
    const seen = await bob.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    expect(seen.status).toBe(403);
    expect(JSON.parse(seen.body)).toEqual({ error: 'this elicitation belongs to another user' });

    // Bob posts with a CSRF token of his own (from his list page): still refused.
    await bob.open(`${fx.server.origin}/tokens`);
    const csrf = /csrf=([^;]+)/.exec(bob.cookieHeader(`${fx.server.origin}/tokens`))![1]!;
    const posted = await post(
      '/tokens',
      new URLSearchParams({ elicitation_id: id, csrf_token: csrf, token: 'Bearer bobs' }).toString(),
      {
        cookie: bob.cookieHeader(`${fx.server.origin}/tokens`),
        origin: fx.server.origin,
      },
    );
    expect(posted.status).toBe(403);
    expect(await fx.store.listCredentials(ownerOf(fx.op.issuer, 'bob'))).toEqual({});

    const page = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    expect((await alice.submit(page, pasteForm(page), { token: 'Bearer alice-again' })).status).toBe(200);
  });

  it('refuses a post without the CSRF cookie, with another token, or from another origin', async () => {
    const id = await fx.elicit('alice', 'tracker');
    const page = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    const form = pasteForm(page);
    const cookies = alice.cookieHeader(`${fx.server.origin}/tokens`);
    const withoutCsrf = cookies.replace(/(?:^|;\s*)csrf=[^;]*/, '');
    const fields = new URLSearchParams(form.fields);
    fields.set('token', 'Bearer forged');

    const noCookie = await post('/tokens', fields.toString(), { cookie: withoutCsrf, origin: fx.server.origin });
    expect(noCookie.status).toBe(403);
    expect(await noCookie.json()).toEqual({ error: 'invalid CSRF token' });

    const other = new URLSearchParams(fields);
    other.set('csrf_token', 'A'.repeat(43));
    expect((await post('/tokens', other.toString(), { cookie: cookies, origin: fx.server.origin })).status).toBe(403);

    const crossSite = await alice.submit(page, form, { token: 'Bearer forged' }, { origin: 'https://evil.example' });
    expect(crossSite.status).toBe(403);
    expect(JSON.parse(crossSite.body)).toEqual({ error: 'cross-origin request refused' });

    // None of them used the elicitation up.
    expect((await alice.submit(page, form, { token: 'Bearer genuine' })).status).toBe(200);
  });

  it('refuses a post from a browser nobody signed in on with 401', async () => {
    const id = await fx.elicit('alice', 'tracker');
    const csrf = 'B'.repeat(43);
    const answer = await post(
      '/tokens',
      new URLSearchParams({ elicitation_id: id, csrf_token: csrf, token: 'x' }).toString(),
      {
        cookie: `csrf=${csrf}`,
      },
    );
    expect(answer.status).toBe(401);
  });

  it('refuses a body over 4096 bytes with 413, a token of 2049 characters or with CR/LF with 400', async () => {
    const id = await fx.elicit('alice', 'tracker');
    const page = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    const form = pasteForm(page);
    const big = await alice.submit(page, form, { token: 'x'.repeat(4100) });
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toEqual({ error: 'request body too large' });

    const long = await alice.submit(page, form, { token: 'y'.repeat(2049) });
    expect(long.status).toBe(400);
    expect(JSON.parse(long.body)).toEqual({ error: 'token exceeds maximum length of 2048' });
    for (const token of ['Bearer a\r\nX-Injected: 1', 'Bearer a\nb', 'Bearer a\u0000']) {
      const bad = await alice.submit(page, form, { token });
      expect(bad.status).toBe(400);
      expect(JSON.parse(bad.body)).toEqual({ error: 'token contains invalid characters' });
    }
    // 2048 characters are fine, and the elicitation was not used up by the refusals.
    expect((await alice.submit(page, form, { token: 'z'.repeat(2048) })).status).toBe(200);
  });

  it('answers a 1 MB body 413 without reading it, declared or streamed', async () => {
    const megabyte = Buffer.alloc(1024 * 1024, 'a');
    for (const declared of [true, false]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${fx.server.origin}/tokens`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            ...(declared ? { 'content-length': String(megabyte.length) } : { 'transfer-encoding': 'chunked' }),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        // Written in 64 KiB pieces, as a client streams; the socket closes once the answer is sent.
        let offset = 0;
        const write = () => {
          while (offset < megabyte.length) {
            const chunk = megabyte.subarray(offset, offset + 65536);
            offset += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', write);
          }
          req.end();
        };
        write();
      }).catch(() => 0);
      expect(status).toBe(413);
      const exchange = fx.server.exchanges.findLast((entry) => entry.method === 'POST' && entry.status === 413)!;
      expect(exchange.bodyBytesRead).toBeLessThan(declared ? 1 : 200 * 1024);
    }
  });

  it('answers an elicitation used twice 404 the second time', async () => {
    const id = await fx.elicit('alice', 'wiki');
    const page = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    const form = pasteForm(page);
    expect((await alice.submit(page, form, { token: 'Bearer first' })).status).toBe(200);
    const again = await alice.submit(page, form, { token: 'Bearer second' });
    expect(again.status).toBe(404);
    expect(JSON.parse(again.body)).toEqual({ error: 'elicitation not found or expired' });
    expect((await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`)).status).toBe(404);
  });
});

describe("the user's list", () => {
  it('lists the servers alice holds tokens for, never a token, and removes one by its form', async () => {
    const id = await fx.elicit('alice', 'tracker');
    const form = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    await alice.submit(form, pasteForm(form), { token: 'Bearer list-me-secret' });

    const list = await alice.open(`${fx.server.origin}/tokens`);
    expect(list.status).toBe(200);
    expect(list.body).toContain('tracker');
    expect(list.body).not.toContain('list-me-secret');
    const remove = list.forms.find((candidate) => candidate.fields.get('server') === 'tracker')!;

    // Bob removing "tracker" removes his own (none), not alice's.
    const bobsList = await bob.open(`${fx.server.origin}/tokens`);
    const bobCsrf = /csrf=([^;]+)/.exec(bob.cookieHeader(`${fx.server.origin}/tokens`))![1]!;
    const bobRemoves = await bob.submit(bobsList, {
      action: '/tokens/remove',
      fields: new URLSearchParams({ csrf_token: bobCsrf, server: 'tracker' }),
    });
    expect(bobRemoves.status).toBe(200);
    const owner = ownerOf(fx.op.issuer, 'alice');
    expect(Object.keys(await fx.store.listCredentials(owner))).toContain('tracker');

    const after = await alice.submit(list, remove);
    expect(after.url.pathname).toBe('/tokens');
    expect(after.body).not.toMatch(/<td>tracker<\/td>/);
    expect(Object.keys(await fx.store.listCredentials(owner))).not.toContain('tracker');
  });

  it("removes a token by DELETE with the owner's bearer token, and only the owner's", async () => {
    const id = await fx.elicit('alice', 'tracker');
    const page = await alice.open(`${fx.server.origin}/tokens?elicitation_id=${id}`);
    await alice.submit(page, pasteForm(page), { token: 'Bearer delete-me' });
    const owner = ownerOf(fx.op.issuer, 'alice');

    const bobs = await fetch(`${fx.server.origin}/tokens/tracker`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await fx.bearer('bob')}` },
    });
    expect(bobs.status).toBe(404);
    expect(Object.keys(await fx.store.listCredentials(owner))).toContain('tracker');

    const cookieOnly = await fetch(`${fx.server.origin}/tokens/tracker`, {
      method: 'DELETE',
      headers: { cookie: alice.cookieHeader(`${fx.server.origin}/tokens`) },
    });
    expect(cookieOnly.status).toBe(401);

    const forged = await fetch(`${fx.server.origin}/tokens/tracker`, {
      method: 'DELETE',
      headers: { authorization: 'Bearer not-a-token' },
    });
    expect(forged.status).toBe(401);

    const alices = await fetch(`${fx.server.origin}/tokens/tracker`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${await fx.bearer('alice')}` },
    });
    expect(alices.status).toBe(204);
    expect(Object.keys(await fx.store.listCredentials(owner))).not.toContain('tracker');
  });

  it('removes the token of a namespace/name server by DELETE, the name as is or percent-encoded', async () => {
    const owner = ownerOf(fx.op.issuer, 'alice');
    const bearer = { authorization: `Bearer ${await fx.bearer('alice')}` };
    for (const path of ['/tokens/team-a/tracker', '/tokens/team-a%2Ftracker']) {
      await fx.store.writeCredential(owner, 'team-a/tracker', 'c1.sealed-record', 60);
      const removed = await fetch(`${fx.server.origin}${path}`, { method: 'DELETE', headers: bearer });
      expect(removed.status, path).toBe(204);
      expect(Object.keys(await fx.store.listCredentials(owner))).not.toContain('team-a/tracker');
    }
  });
});

describe('every answer', () => {
  it('carries the security headers, and no page has a script', () => {
    expect(fx.server.exchanges.length).toBeGreaterThan(20);
    for (const exchange of fx.server.exchanges) {
      const where = `${exchange.method} ${exchange.path} (${exchange.status})`;
      expect(exchange.headers.get('content-security-policy'), where).toBe(
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      expect(exchange.headers.get('referrer-policy'), where).toBe('no-referrer');
      expect(exchange.headers.get('cache-control'), where).toBe('no-store');
      expect(exchange.headers.get('x-frame-options'), where).toBe('DENY');
      expect(exchange.body.toLowerCase(), where).not.toContain('<script');
    }
    const csrf = fx.server.exchanges
      .flatMap((exchange) => exchange.headers.getSetCookie())
      .find((line) => line.startsWith('csrf='))!;
    expect(csrf).toMatch(/; Path=\/tokens; Max-Age=120; HttpOnly; SameSite=Strict$/);
    const login = fx.server.exchanges
      .flatMap((exchange) => exchange.headers.getSetCookie())
      .find((line) => line.startsWith('mcpgw_login='))!;
    expect(login).toMatch(/; Path=\/tokens; Max-Age=600; HttpOnly; SameSite=Lax$/);
  });
});
