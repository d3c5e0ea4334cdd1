// The URL elicitation round as a user goes through it: the call is elicited, the user opens the
// link in a browser (signing in at the provider, or with their bearer) and pastes their upstream
// token, and the client calls again. Shared by the suites of every host and of the replicas.
import { expect } from 'vitest';
import { DEFAULT_ACCOUNTS, type OidcAccount, type RunningOidcProvider } from '../harness/identity.ts';
import { callerSeen, elicitationOf, type UserClient } from './credential-clients.ts';
import { createTokenPageBrowser, type PageAnswer, type TokenPageBrowser } from './token-page.ts';

/** The provider's users in these suites: alice and bob, and fresh ones for tests that need a user with nothing stored. */
export const CREDENTIAL_ACCOUNTS: Readonly<Record<string, OidcAccount>> = {
  ...DEFAULT_ACCOUNTS,
  carol: { roles: ['reader'], org: { id: 'acme' } },
  dave: { roles: ['reader'], org: { id: 'acme' } },
  erin: { roles: ['reader'], org: { id: 'acme' } },
  frank: { roles: ['reader'], org: { id: 'acme' } },
};

/** The scope of every caller's token. */
export const CALLER_SCOPE = 'mcp:tools';

/** The gateway page of a host, for a browser. */
export interface PageHost {
  readonly baseUrl: string;
  readonly publicHosts: readonly string[];
}

/** How the browser tells the gateway who its user is. */
export type PageIdentity = { readonly via: 'login' } | { readonly via: 'bearer'; readonly accessToken: string };

/** A browser of `account` at `host`: it signs in at the provider, or sends the bearer. */
export function browserOf(
  host: PageHost,
  account: string,
  identity: PageIdentity = { via: 'login' },
): TokenPageBrowser {
  return createTokenPageBrowser({
    baseUrl: host.baseUrl,
    publicHosts: host.publicHosts,
    ...(identity.via === 'login' ? { account } : { bearer: `Bearer ${identity.accessToken}` }),
  });
}

/** An upstream token of `account`: a JWT of the provider whose audience is the upstream. */
export async function upstreamTokenOf(idp: RunningOidcProvider, account: string, upstreamUrl: string): Promise<string> {
  return (await idp.userToken({ account, resource: upstreamUrl, scope: CALLER_SCOPE })).accessToken;
}

/**
 * Calls `tool` and, when the gateway elicits, pastes `authorization` at the link as `account`
 * and calls again; resolves with the caller the upstream saw on the call that reached it.
 */
export async function callWithPastedToken(options: {
  readonly client: UserClient;
  readonly tool: string;
  readonly host: PageHost;
  readonly account: string;
  readonly authorization: string;
  readonly identity?: PageIdentity;
}) {
  const first = await options.client.call(options.tool);
  if (first.kind !== 'elicitation') return callerSeen(first);
  const page = await pasteAt(options.host, options.account, elicitationOf(first).elicitations[0]!.url, {
    authorization: options.authorization,
    ...(options.identity === undefined ? {} : { identity: options.identity }),
  });
  expect({ status: page.status, body: page.text.slice(0, 300) }).toEqual({ status: 200, body: expect.any(String) });
  return callerSeen(await options.client.call(options.tool));
}

/** Pastes `authorization` at the elicitation `url` as `account`. */
export function pasteAt(
  host: PageHost,
  account: string,
  url: string,
  options: { readonly authorization: string; readonly identity?: PageIdentity },
): Promise<PageAnswer> {
  return browserOf(host, account, options.identity).pasteToken(url, options.authorization);
}
