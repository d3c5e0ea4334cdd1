import type { GatewayConfig, ServerConfig } from '../config/schema.ts';
import {
  assertCredentialSecrets,
  createCredentialSealer,
  deferredSealer,
  parseCredentialSecrets,
  type CredentialSealer,
  type UserCredential,
} from '../credentials/credential-sealer.ts';
import { createUserCredentials, type UserCredentials } from '../credentials/user-credentials.ts';
import type { Logger } from '../logger.ts';
import type { CallerIdentities } from '../session/caller-identity.ts';
import type { NotificationBus } from '../store/notification-bus.ts';
import type { SessionStore } from '../store/session-store.ts';

/** A host's settings of users' own upstream credentials (docs/credentials.md). */
export interface CredentialSettings {
  /** `--enable-url-elicitation` (ENABLE_URL_ELICITATION): `tokenURLElicitation` servers take pasted tokens. Default false. */
  readonly urlElicitation?: boolean;
  /**
   * CREDENTIAL_ENCRYPTION_KEYS: secrets of at least 32 bytes, comma or space separated, newest
   * first. Absent or empty: one key derived from the session signing key (as the anchor does).
   */
  readonly encryptionKeys?: string;
  /** `--mcp-gateway-public-host`: the host in the /tokens URLs; else the request's Host. */
  readonly publicHost?: string;
  /** Refreshes an upstream OAuth credential whose access token expired (the /tokens pages' OAuth client). */
  readonly refresh?: (server: ServerConfig, credential: UserCredential) => Promise<UserCredential | undefined>;
}

export interface GatewayCredentials {
  readonly sealer: CredentialSealer;
  readonly credentials: UserCredentials;
}

/**
 * The sealer of users' credentials (its keys checked now, derived in the background) and the
 * per-call decision over the gateway's store, bus and caller identities.
 * @throws Error naming a key shorter than 32 bytes.
 */
export function createGatewayCredentials(
  settings: CredentialSettings,
  signingKey: string | Uint8Array,
  deps: {
    store: SessionStore;
    bus: NotificationBus;
    callers: CallerIdentities;
    logger: Logger;
    fetch?: typeof fetch;
  },
): GatewayCredentials {
  const configured = parseCredentialSecrets(settings.encryptionKeys ?? '');
  const secrets =
    configured.length > 0
      ? configured
      : [typeof signingKey === 'string' ? new TextEncoder().encode(signingKey) : new Uint8Array(signingKey)];
  assertCredentialSecrets(secrets);
  const made = createCredentialSealer(secrets);
  // Checked above: derivation itself does not fail; a rejection would surface at first use.
  made.catch(() => undefined);
  const sealer = deferredSealer(made);
  const credentials = createUserCredentials({
    ...deps,
    sealer,
    urlElicitation: settings.urlElicitation === true,
    ...(settings.refresh && { refresh: settings.refresh }),
  });
  return { sealer, credentials };
}

/** What a host should say about a config's credential settings (a field that is off, and why). */
export function credentialWarnings(config: GatewayConfig, settings: CredentialSettings): string[] {
  if (settings.urlElicitation === true) return [];
  return config.servers
    .filter((server) => server.userCredential?.kind === 'paste')
    .map(
      (server) =>
        `server ${server.name}: tokenURLElicitation is ignored without --enable-url-elicitation (ENABLE_URL_ELICITATION=true); its calls carry the client's own Authorization`,
    );
}
