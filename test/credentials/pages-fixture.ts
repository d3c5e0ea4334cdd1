import { createHash, randomBytes, randomUUID } from 'node:crypto';
import {
  createCredentialSealer,
  createMemorySessionStore,
  createTokenPages,
  NOOP_LOGGER,
  parseConfig,
  type CredentialSealer,
  type SessionStore,
  type TokenPagesServer,
} from '@mcp-gateway/core';
import { createAccessControl } from '@mcp-gateway/core/testing';
import { startOidcProvider, type RunningOidcProvider } from '../harness/identity.ts';
import { createWebBrowser, type WebBrowser } from '../harness/web-browser.ts';
import { startPagesServer, type PagesServer } from './pages-server.ts';

/** The parts a /tokens suite runs against: a real OpenID provider, the pages on a real HTTP server, the memory store. */
export interface PagesFixture {
  readonly op: RunningOidcProvider;
  readonly server: PagesServer;
  readonly store: SessionStore;
  readonly sealer: CredentialSealer;
  /** Every (owner, server) the pages reported as changed. */
  readonly changed: Array<{ owner: string; server: string }>;
  /** A browser that signs in at the provider(s) as `account`. */
  browser(account: string): WebBrowser;
  /** An access token of `account` for the gateway (its /mcp URL is the audience), as a client holds. */
  bearer(account: string): Promise<string>;
  /** A URL elicitation waiting for `account`'s token to `server`, as a call without one leaves it: its id. */
  elicit(account: string, server: string, issuer?: string): Promise<string>;
  stop(): Promise<void>;
}

/** The store key of (issuer, subject), computed here from its definition (core's credentialOwner). */
export function ownerOf(issuer: string, subject: string): string {
  return createHash('sha256').update(`credential-owner\n${issuer}\n${subject}`).digest('hex').slice(0, 32);
}

/** Starts the provider, registers the gateway's login client at it, and serves the pages. */
export async function startPagesFixture(options: {
  servers: Record<string, TokenPagesServer>;
  /** More providers whose pages the browsers answer (an upstream's own authorization server). */
  providers?: () => readonly string[];
}): Promise<PagesFixture> {
  const op = await startOidcProvider();
  const server = await startPagesServer();
  const store = createMemorySessionStore();
  const sealer = await createCredentialSealer([new Uint8Array(randomBytes(32))]);
  const changed: Array<{ owner: string; server: string }> = [];

  const metadata = (await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()) as {
    registration_endpoint: string;
  };
  // The operator registers the gateway's login client once (here by dynamic registration).
  const registered = await fetch(metadata.registration_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      redirect_uris: [`${server.origin}/tokens/login/callback`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }),
  });
  const client = (await registered.json()) as { client_id: string; client_secret: string };

  const parsed = parseConfig(
    `servers: []\nauth:\n  oauth:\n    issuers: [${JSON.stringify(op.issuer)}]\n    audience: ${JSON.stringify(`${server.origin}/mcp`)}\n`,
    'test',
  );
  if (!parsed.ok) throw parsed.error;
  const access = createAccessControl({ config: parsed.config, env: {}, fetch, logger: NOOP_LOGGER });

  server.serve(
    createTokenPages({
      store,
      sealer,
      authenticate: (authorization) => access.authenticate(authorization),
      server: (name) => options.servers[name],
      login: () => ({ issuer: op.issuer, clientId: client.client_id, clientSecret: client.client_secret }),
      logger: NOOP_LOGGER,
      changed: (owner, name) => changed.push({ owner, server: name }),
      pastedTokenTtlSeconds: 3600,
    }),
  );

  return {
    op,
    server,
    store,
    sealer,
    changed,
    browser: (account) => createWebBrowser({ account, providers: [op.issuer, ...(options.providers?.() ?? [])] }),
    async bearer(account) {
      return (await op.userToken({ account, resource: `${server.origin}/mcp`, scope: 'mcp:tools' })).accessToken;
    },
    async elicit(account, name, issuer = op.issuer) {
      const id = randomUUID();
      const entry = {
        issuer,
        subject: account,
        owner: ownerOf(issuer, account),
        server: name,
        expiresAt: Date.now() + 120_000,
      };
      await store.putGrant(`te:${id}`, JSON.stringify(entry), 120);
      return id;
    },
    async stop() {
      await server.stop();
      await op.stop();
    },
  };
}
