import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { OidcAccount } from './oidc-accounts.ts';

/** Where oidc-provider sends the user agent when it needs a login or a consent. */
export const INTERACTION_PATH = '/interaction';

const ROUTE = /^\/interaction\/([\w-]+)(?:\/(login|consent|abort))?$/;

/**
 * The provider's login and consent pages: plain HTML forms, as a browser would see them. The
 * login accepts only the names of `accounts` (any password); the consent grants what was asked,
 * less the scopes the account does not consent to. Returns false for a path that is not theirs.
 * @see https://github.com/panva/node-oidc-provider/blob/main/docs/README.md#user-flows
 */
export async function handleInteraction(
  provider: Provider,
  accounts: Readonly<Record<string, OidcAccount>>,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const match = ROUTE.exec(new URL(req.url ?? '/', 'http://provider').pathname);
  if (match === null) return false;
  const [, uid, action] = match as unknown as [string, string, string | undefined];
  const details = await provider.interactionDetails(req, res);

  if (req.method === 'GET' && action === undefined) {
    sendHtml(res, details.prompt.name === 'login' ? loginPage(uid) : consentPage(uid, details.params));
    return true;
  }
  if (req.method !== 'POST' || action === undefined) {
    res.writeHead(405).end();
    return true;
  }
  const form = new URLSearchParams(await readBody(req));

  if (action === 'abort') {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the user refused' });
  } else if (action === 'login') {
    const name = form.get('login') ?? '';
    const result = Object.hasOwn(accounts, name)
      ? { login: { accountId: name } }
      : { error: 'access_denied', error_description: `no account named ${JSON.stringify(name)}` };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  } else {
    const grantId = await grantConsent(provider, accounts, details);
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  return true;
}

type Details = Awaited<ReturnType<Provider['interactionDetails']>>;

/** Grants what the consent prompt found missing, refusing the resource scopes the account does not consent to. */
async function grantConsent(
  provider: Provider,
  accounts: Readonly<Record<string, OidcAccount>>,
  details: Details,
): Promise<string> {
  const accountId = details.session?.accountId;
  if (accountId === undefined) throw new Error('consent without a logged-in account');
  const consented = accounts[accountId]?.scopes;
  const grant = details.grantId
    ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  if (grant === undefined) throw new Error(`grant ${details.grantId} is gone`);

  const missing = details.prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope);
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    const granted = consented === undefined ? scopes : scopes.filter((scope) => consented.includes(scope));
    const refused = scopes.filter((scope) => !granted.includes(scope));
    if (granted.length > 0) grant.addResourceScope(resource, granted);
    // Refused scopes count as encountered, so the provider does not ask again and issues the rest.
    if (refused.length > 0) grant.rejectResourceScope(resource, refused);
  }
  return grant.save();
}

function loginPage(uid: string): string {
  return page(
    'Sign in',
    `<form method="post" action="${INTERACTION_PATH}/${uid}/login">
  <input type="text" name="login" value="" autofocus>
  <input type="password" name="password" value="">
  <button type="submit">Sign in</button>
</form>`,
  );
}

function consentPage(uid: string, params: Record<string, unknown>): string {
  const scope = typeof params.scope === 'string' ? params.scope : '';
  const resource = typeof params.resource === 'string' ? params.resource : '';
  return page(
    'Authorize',
    `<p>${escapeHtml(String(params.client_id))} asks for <code>${escapeHtml(scope)}</code> on <code>${escapeHtml(resource)}</code>.</p>
<form method="post" action="${INTERACTION_PATH}/${uid}/consent"><button type="submit">Allow</button></form>
<form method="post" action="${INTERACTION_PATH}/${uid}/abort"><button type="submit">Deny</button></form>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>\n${body}\n</body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function sendHtml(res: ServerResponse, html: string): void {
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(html);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
