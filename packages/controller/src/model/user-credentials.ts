import type { TokenExchangeConfig, UpstreamOAuthConfig } from '@mcp-gateway/core';
import type { McpServerRegistration } from './api-types.ts';
import type { StateIndex } from './cluster-state.ts';
import type { ValidExtension } from './extension-validation.ts';
import { DEFAULT_CLIENT_SECRET_KEY, readSecretValue } from './secret-values.ts';

/** `tokenExchange` of a config server entry: the registration's, with the client secret's value. */
export type FileTokenExchange = TokenExchangeConfig;

/** `upstreamOAuth` of a config server entry: the registration's, with the client secret's value. */
export type FileUpstreamOAuth = UpstreamOAuthConfig;

/**
 * The per-user credential method of a config server entry, in the file's spelling (at most one
 * is set: the CRD refuses more).
 * @see docs/configuration.md
 */
export interface FileUserCredentials {
  readonly tokenURLElicitation?: { readonly url?: string };
  readonly tokenExchange?: FileTokenExchange;
  readonly upstreamOAuth?: FileUpstreamOAuth;
}

/** toFileUserCredentials' outcome: the entry's fields, or why a client secret cannot be read. */
export type UserCredentialsResult =
  { readonly ok: true; readonly fields: FileUserCredentials } | { readonly ok: false; readonly message: string };

/**
 * A registration's `tokenURLElicitation`, `tokenExchange` and `upstreamOAuth` as its config entry
 * carries them: the client secrets read from labelled Secrets in its namespace (the rules and
 * messages of credentialRef; a message names the Secret and key, never the value), empty
 * optional fields left out.
 */
export function toFileUserCredentials(index: StateIndex, registration: McpServerRegistration): UserCredentialsResult {
  const spec = registration.spec;
  const namespace = registration.metadata.namespace ?? '';
  if (spec.tokenURLElicitation !== undefined) {
    const url = spec.tokenURLElicitation.url;
    return { ok: true, fields: { tokenURLElicitation: url !== undefined && url !== '' ? { url } : {} } };
  }
  const exchange = spec.tokenExchange;
  if (exchange !== undefined) {
    const secret = readSecretValue(
      index,
      namespace,
      exchange.clientSecretRef,
      DEFAULT_CLIENT_SECRET_KEY,
      'tokenExchange.clientSecretRef',
    );
    if (!secret.ok) return secret;
    if (isBlank(secret.value)) return blank('tokenExchange.clientSecretRef', namespace, exchange.clientSecretRef);
    const tokenExchange: FileTokenExchange = {
      ...(exchange.tokenEndpoint !== undefined ? { tokenEndpoint: exchange.tokenEndpoint } : {}),
      ...(exchange.issuer !== undefined ? { issuer: exchange.issuer } : {}),
      clientId: exchange.clientId,
      clientSecret: secret.value ?? '',
      ...(exchange.audience !== undefined ? { audience: exchange.audience } : {}),
      ...(exchange.resource !== undefined ? { resource: exchange.resource } : {}),
      ...(exchange.scopes !== undefined && exchange.scopes.length > 0 ? { scopes: exchange.scopes } : {}),
    };
    return { ok: true, fields: { tokenExchange } };
  }
  const oauth = spec.upstreamOAuth;
  if (oauth !== undefined) {
    const secret = readSecretValue(
      index,
      namespace,
      oauth.clientSecretRef,
      DEFAULT_CLIENT_SECRET_KEY,
      'upstreamOAuth.clientSecretRef',
    );
    if (!secret.ok) return secret;
    if (isBlank(secret.value)) return blank('upstreamOAuth.clientSecretRef', namespace, oauth.clientSecretRef);
    const upstreamOAuth: FileUpstreamOAuth = {
      ...(oauth.clientId !== undefined ? { clientId: oauth.clientId } : {}),
      ...(secret.value !== undefined ? { clientSecret: secret.value } : {}),
      ...(oauth.scopes !== undefined && oauth.scopes.length > 0 ? { scopes: oauth.scopes } : {}),
    };
    return { ok: true, fields: { upstreamOAuth } };
  }
  return { ok: true, fields: {} };
}

/** True for a value of white space only, which the gateway would refuse (and with it the whole config). */
function isBlank(value: string | undefined): boolean {
  return value !== undefined && value.trim() === '';
}

function blank(
  field: string,
  namespace: string,
  ref: { readonly name: string; readonly key?: string } | undefined,
): UserCredentialsResult {
  const key = ref?.key ?? DEFAULT_CLIENT_SECRET_KEY;
  return { ok: false, message: `${field}: key ${key} of Secret ${namespace}/${ref?.name ?? ''} is blank` };
}

/**
 * Sentences for the Ready condition of a registration whose method needs what a gateway without
 * `urlElicitation: Enabled` lacks: `tokenURLElicitation` is accepted and ignored there (as the
 * anchor), and `upstreamOAuth`'s login returns to the `/tokens` pages, which only that setting
 * routes. The registration says where.
 */
export function urlElicitationRemarks(
  registration: McpServerRegistration,
  extensions: readonly ValidExtension[],
): string[] {
  const spec = registration.spec;
  if (spec.tokenURLElicitation === undefined && spec.upstreamOAuth === undefined) return [];
  const off = extensions
    .filter((v) => v.extension.spec.urlElicitation !== 'Enabled')
    .map((v) => v.extension.metadata.namespace ?? '');
  if (off.length === 0) return [];
  const where = `the gateway of namespace ${off.join(', ')}`;
  const why = 'its MCPGatewayExtension does not set urlElicitation: Enabled';
  return [
    spec.tokenURLElicitation !== undefined
      ? `tokenURLElicitation has no effect in ${where}: ${why}`
      : `upstreamOAuth cannot complete a login in ${where}, whose /tokens pages are not routed: ${why}`,
  ];
}
