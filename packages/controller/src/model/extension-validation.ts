import type { Gateway, Listener, McpGatewayExtension, Secret } from './api-types.ts';
import { keyOf } from './api-types.ts';
import { byAge, type StateIndex } from './cluster-state.ts';
import { listenerAdmits, referenceGranted } from './gateway-api.ts';
import { derivePrivateHost, derivePublicHost } from './hosts.ts';
import { DEFAULT_CLIENT_SECRET_KEY, readSecretValue } from './secret-values.ts';
import { CREDENTIAL_KEYS_SECRET_KEY, GATEWAY_API_GROUP, MCP_API_GROUP, SECRET_LABEL } from '../names.ts';

/** Reasons of an extension's Ready condition (the anchor's, plus ours for the deployment and the config). */
export const EXTENSION_REASONS = {
  valid: 'ValidMCPGatewayExtension',
  invalid: 'InvalidMCPGatewayExtension',
  referenceGrantRequired: 'ReferenceGrantRequired',
  deploymentNotReady: 'DeploymentNotReady',
  secretNotFound: 'SecretNotFound',
  secretInvalid: 'SecretInvalid',
  /** The policy the extension writes does not pass the gateway's checks: the config is held back. */
  invalidPolicy: 'InvalidPolicy',
  /** Another part of the config does not pass the gateway's checks: the config is held back. */
  invalidConfig: 'InvalidConfig',
} as const;

/** ReferenceGrant `from.group` values that name our extensions (the seeds' older group too). */
const EXTENSION_GROUPS = [MCP_API_GROUP, 'mcp.kagenti.com'];

/** A valid extension: the listener it serves and the hosts derived from it. */
export interface ValidExtension {
  readonly valid: true;
  readonly extension: McpGatewayExtension;
  readonly gateway: Gateway;
  readonly listener: Listener;
  readonly publicHost: string;
  readonly privateHost: string;
  /** The session-store Secret when `spec.sessionStore` is set. */
  readonly sessionStore?: Secret;
  /** The checked Secret of `spec.credentialEncryption` when it is set. */
  readonly credentialKeys?: Secret;
  /** The value of `spec.userCredentials.login.clientSecretRef` when it is set (written into the config, never shown). */
  readonly loginClientSecret?: string;
}

/** An extension that cannot serve, with the reason and message its Ready condition reports. */
export interface InvalidExtension {
  readonly valid: false;
  readonly extension: McpGatewayExtension;
  readonly reason: string;
  readonly message: string;
}

export type ExtensionVerdict = ValidExtension | InvalidExtension;

const invalid = (extension: McpGatewayExtension, message: string, reason: string = EXTENSION_REASONS.invalid) =>
  ({ valid: false, extension, reason, message }) as const;

/**
 * Judges every extension, in the anchor's order: one per namespace (the oldest wins), the
 * target Gateway and listener exist, a public host can be derived, the listener admits the
 * extension's namespace, a cross-namespace target has a ReferenceGrant, one extension per
 * Gateway listener port (the oldest wins), and the session-store, credential-key and login
 * client Secrets are usable.
 * Extensions being deleted are left out.
 */
export function validateExtensions(index: StateIndex): Map<string, ExtensionVerdict> {
  const verdicts = new Map<string, ExtensionVerdict>();
  const live = index.state.extensions.filter((e) => e.metadata.deletionTimestamp === undefined).sort(byAge);
  const namespaceWinner = new Map<string, McpGatewayExtension>();
  const portOwner = new Map<string, McpGatewayExtension>();
  for (const extension of live) {
    const namespace = extension.metadata.namespace ?? '';
    const winner = namespaceWinner.get(namespace);
    if (winner !== undefined) {
      verdicts.set(
        keyOf(extension),
        invalid(
          extension,
          `namespace ${namespace} already has MCPGatewayExtension ${winner.metadata.name}, which is older; only one per namespace is served`,
        ),
      );
      continue;
    }
    namespaceWinner.set(namespace, extension);
    const verdict = judgeTarget(index, extension);
    if (verdict.valid) {
      const port = `${keyOf(verdict.gateway)}:${verdict.listener.port}`;
      const owner = portOwner.get(port);
      if (owner !== undefined) {
        verdicts.set(
          keyOf(extension),
          invalid(
            extension,
            `port ${verdict.listener.port} of Gateway ${keyOf(verdict.gateway)} is already served by MCPGatewayExtension ${keyOf(owner)}, which is older`,
          ),
        );
        continue;
      }
      portOwner.set(port, extension);
    }
    verdicts.set(keyOf(extension), verdict);
  }
  return verdicts;
}

function judgeTarget(index: StateIndex, extension: McpGatewayExtension): ExtensionVerdict {
  const namespace = extension.metadata.namespace ?? '';
  const target = extension.spec.targetRef;
  const gatewayNamespace = target.namespace !== undefined && target.namespace !== '' ? target.namespace : namespace;
  const gateway = index.gateways.get(`${gatewayNamespace}/${target.name}`);
  if (gateway === undefined) return invalid(extension, `Gateway ${gatewayNamespace}/${target.name} not found`);
  const listeners = gateway.spec.listeners ?? [];
  const listener = pickListener(listeners, target.sectionName);
  if (typeof listener === 'string')
    return invalid(extension, listener.replace('%s', `${gatewayNamespace}/${target.name}`));
  const publicHost = derivePublicHost(extension.spec.publicHost, listener);
  if (!publicHost.ok) return invalid(extension, publicHost.message);
  if (!listenerAdmits(listener, gatewayNamespace, namespace, index.namespaceLabels.get(namespace))) {
    return invalid(
      extension,
      `listener ${listener.name} of Gateway ${gatewayNamespace}/${target.name} does not allow routes from namespace ${namespace} (allowedRoutes.namespaces.from: ${listener.allowedRoutes?.namespaces?.from ?? 'Same'})`,
    );
  }
  if (
    gatewayNamespace !== namespace &&
    !referenceGranted(
      index.state.referenceGrants,
      { groups: EXTENSION_GROUPS, kind: 'MCPGatewayExtension', namespace },
      { group: GATEWAY_API_GROUP, kind: 'Gateway', name: target.name, namespace: gatewayNamespace },
    )
  ) {
    return invalid(
      extension,
      `ReferenceGrant required in namespace ${gatewayNamespace} to allow cross-namespace reference`,
      EXTENSION_REASONS.referenceGrantRequired,
    );
  }
  const base = {
    valid: true as const,
    extension,
    gateway,
    listener,
    publicHost: publicHost.host,
    privateHost: derivePrivateHost(extension.spec.privateHost, gateway, listener),
  };
  const store = judgeSessionStore(index, extension);
  if (store !== undefined && !store.ok) return store.invalid;
  const keys = judgeCredentialKeys(index, extension);
  if (keys !== undefined && !keys.ok) return keys.invalid;
  const login = judgeLoginSecret(index, extension);
  if (!login.ok) return login.invalid;
  return {
    ...base,
    ...(store !== undefined ? { sessionStore: store.secret } : {}),
    ...(keys !== undefined ? { credentialKeys: keys.secret } : {}),
    ...(login.value !== undefined ? { loginClientSecret: login.value } : {}),
  };
}

type SecretJudgement =
  { readonly ok: true; readonly secret: Secret } | { readonly ok: false; readonly invalid: InvalidExtension };

/** The session-store Secret: labelled, with a CACHE_CONNECTION_STRING. Undefined when none is named. */
function judgeSessionStore(index: StateIndex, extension: McpGatewayExtension): SecretJudgement | undefined {
  const namespace = extension.metadata.namespace ?? '';
  const storeName = extension.spec.sessionStore?.secretName;
  if (storeName === undefined) return undefined;
  const secret = index.secrets.get(`${namespace}/${storeName}`);
  if (secret === undefined) {
    return {
      ok: false,
      invalid: invalid(
        extension,
        `session store Secret ${namespace}/${storeName} not found (it must carry the label ${SECRET_LABEL}=true)`,
        EXTENSION_REASONS.secretNotFound,
      ),
    };
  }
  if ((secret.data?.CACHE_CONNECTION_STRING ?? '') === '') {
    return {
      ok: false,
      invalid: invalid(
        extension,
        `session store Secret ${namespace}/${storeName} has no CACHE_CONNECTION_STRING`,
        EXTENSION_REASONS.secretInvalid,
      ),
    };
  }
  return { ok: true, secret };
}

/**
 * The Secret of `spec.credentialEncryption`: labelled, its key `keys` holding one or more secrets
 * separated by commas or whitespace (newest first), each of at least 32 bytes, as the gateway
 * reads `CREDENTIAL_ENCRYPTION_KEYS`. A gateway given a short key would refuse to start, so the
 * extension says so instead. Messages name the Secret and a key's position, never a key.
 */
function judgeCredentialKeys(index: StateIndex, extension: McpGatewayExtension): SecretJudgement | undefined {
  const namespace = extension.metadata.namespace ?? '';
  const name = extension.spec.credentialEncryption?.secretName;
  if (name === undefined) return undefined;
  const fail = (message: string, reason: string) => ({
    ok: false as const,
    invalid: invalid(extension, `credentialEncryption: Secret ${namespace}/${name} ${message}`, reason),
  });
  const secret = index.secrets.get(`${namespace}/${name}`);
  if (secret === undefined) {
    return fail(`not found (it must carry the label ${SECRET_LABEL}=true)`, EXTENSION_REASONS.secretNotFound);
  }
  const encoded = secret.data?.[CREDENTIAL_KEYS_SECRET_KEY] ?? '';
  const keys = Buffer.from(encoded, 'base64')
    .toString('utf8')
    .split(/[\s,]+/)
    .filter((key) => key !== '');
  if (keys.length === 0) return fail(`has no key ${CREDENTIAL_KEYS_SECRET_KEY}`, EXTENSION_REASONS.secretInvalid);
  const short = keys.findIndex((key) => Buffer.byteLength(key, 'utf8') < MIN_CREDENTIAL_KEY_BYTES);
  if (short >= 0) {
    return fail(
      `has a key shorter than ${MIN_CREDENTIAL_KEY_BYTES} bytes in ${CREDENTIAL_KEYS_SECRET_KEY} (number ${short + 1} of ${keys.length})`,
      EXTENSION_REASONS.secretInvalid,
    );
  }
  return { ok: true, secret };
}

/**
 * The client secret of `spec.userCredentials.login.clientSecretRef` (key `clientSecret` by
 * default), read from a labelled Secret as a registration's client secrets are. A missing Secret
 * is SecretNotFound; a missing, empty or blank key SecretInvalid (the gateway would refuse the
 * whole config). Messages name the Secret and the key, never the value.
 */
function judgeLoginSecret(
  index: StateIndex,
  extension: McpGatewayExtension,
): { readonly ok: true; readonly value?: string } | { readonly ok: false; readonly invalid: InvalidExtension } {
  const namespace = extension.metadata.namespace ?? '';
  const ref = extension.spec.userCredentials?.login?.clientSecretRef;
  const field = 'userCredentials.login.clientSecretRef';
  const read = readSecretValue(index, namespace, ref, DEFAULT_CLIENT_SECRET_KEY, field);
  if (!read.ok) {
    const found = ref !== undefined && index.secrets.has(`${namespace}/${ref.name}`);
    const reason = found ? EXTENSION_REASONS.secretInvalid : EXTENSION_REASONS.secretNotFound;
    return { ok: false, invalid: invalid(extension, read.message, reason) };
  }
  if (ref !== undefined && read.value !== undefined && read.value.trim() === '') {
    const message = `${field}: key ${ref.key ?? DEFAULT_CLIENT_SECRET_KEY} of Secret ${namespace}/${ref.name} is blank`;
    return { ok: false, invalid: invalid(extension, message, EXTENSION_REASONS.secretInvalid) };
  }
  return read;
}

/** Shortest secret the gateway accepts in CREDENTIAL_ENCRYPTION_KEYS (core's MIN_CREDENTIAL_SECRET_BYTES). */
const MIN_CREDENTIAL_KEY_BYTES = 32;

/** The listener `sectionName` names; without one, the Gateway's only listener. A string is the error. */
function pickListener(listeners: readonly Listener[], sectionName: string | undefined): Listener | string {
  if (sectionName !== undefined && sectionName !== '') {
    return listeners.find((l) => l.name === sectionName) ?? `listener ${sectionName} not found on Gateway %s`;
  }
  if (listeners.length === 1 && listeners[0] !== undefined) return listeners[0];
  return `spec.targetRef.sectionName is required: Gateway %s has ${listeners.length} listeners`;
}
