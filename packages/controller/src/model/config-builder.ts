import type { GatewayConfig } from '@mcp-gateway/core';
import { stringify } from 'yaml';
import { accessSections, type AccessSections } from './access-config.ts';
import type { StateIndex } from './cluster-state.ts';
import { credentialsSection, type FileCredentials } from './credentials-section.ts';
import type { ExtensionVerdict } from './extension-validation.ts';
import type { DesiredServer, RegistrationResolution } from './registrations.ts';
import type { VirtualServerPlacement } from './virtual-servers.ts';
import { AGGREGATED_LABEL, CONFIG_SECRET_NAME } from '../names.ts';

/**
 * A namespace's config as the controller writes it: the gateway's servers (their tool overrides
 * and quotas as the registrations wrote them), virtual servers and CA bundle, and the access and
 * credentials sections in the file's spelling (as the extension wrote them).
 */
export type DesiredConfig = Omit<
  GatewayConfig,
  'servers' | 'auth' | 'policy' | 'audit' | 'confirmation' | 'credentials'
> &
  AccessSections & { readonly servers: readonly DesiredServer[]; readonly credentials?: FileCredentials };

/** Options of the configs that come from the controller's flags rather than from objects. */
export interface ConfigOptions {
  /**
   * `confirmation.timeoutSeconds` of the configs whose extension sets no `spec.confirmation`
   * (`--gateway-confirmation-timeout`); absent: left to the gateway (120 s).
   */
  readonly confirmationTimeoutSeconds?: number;
}

/**
 * The gateway config for every namespace that needs one: each valid extension's namespace gets
 * the servers whose HTTPRoutes attach to its listener, the virtual servers placed there, and the
 * access and credentials sections of its spec; a namespace that still has a config Secret but no valid extension
 * gets the empty config.
 */
export function buildConfigs(
  index: StateIndex,
  extensions: ReadonlyMap<string, ExtensionVerdict>,
  resolution: RegistrationResolution,
  placement: VirtualServerPlacement,
  options: ConfigOptions = {},
): Map<string, DesiredConfig> {
  const configs = new Map<string, DesiredConfig>();
  for (const secret of index.state.secrets) {
    if (secret.metadata.name === CONFIG_SECRET_NAME && secret.metadata.labels?.[AGGREGATED_LABEL] === 'true') {
      configs.set(secret.metadata.namespace ?? '', { servers: [], virtualServers: [] });
    }
  }
  for (const verdict of extensions.values()) {
    if (!verdict.valid) continue;
    const namespace = verdict.extension.metadata.namespace ?? '';
    const servers = [...(resolution.serversByNamespace.get(namespace) ?? [])].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    const bundle = caBundle(index, verdict.extension.metadata.namespace ?? '', verdict.extension.spec.caCertBundleRef);
    const sections = accessSections(verdict);
    const credentials = credentialsSection(verdict);
    // The extension's spec.confirmation wins; the controller's flag fills in what it leaves out.
    const timeoutSeconds = sections.confirmation?.timeoutSeconds ?? options.confirmationTimeoutSeconds;
    configs.set(namespace, {
      servers,
      virtualServers: placement.byNamespace.get(namespace) ?? [],
      ...(bundle !== undefined ? { gatewayCACertPEM: bundle } : {}),
      ...sections,
      ...(timeoutSeconds !== undefined ? { confirmation: { ...sections.confirmation, timeoutSeconds } } : {}),
      ...(credentials !== undefined ? { credentials } : {}),
    });
  }
  return configs;
}

/** Largest CA bundle an extension may reference (the anchor's limit). */
const MAX_CA_BUNDLE_BYTES = 256 * 1024;

/**
 * The PEM of `spec.caCertBundleRef` (key `ca.crt` by default) from a labelled Secret, or
 * undefined when it is not set, missing, too large or not PEM.
 */
function caBundle(
  index: StateIndex,
  namespace: string,
  ref: { readonly name: string; readonly key?: string } | undefined,
): string | undefined {
  if (ref === undefined) return undefined;
  const encoded = index.secrets.get(`${namespace}/${ref.name}`)?.data?.[ref.key ?? 'ca.crt'];
  if (encoded === undefined) return undefined;
  const pem = Buffer.from(encoded, 'base64').toString('utf8');
  return pem.length <= MAX_CA_BUNDLE_BYTES && pem.includes('-----BEGIN CERTIFICATE-----') ? pem : undefined;
}

/** One `servers[]` entry in the file's spelling (`state: Enabled`), empty optionals left out. */
function toFileServer(server: DesiredServer): Record<string, unknown> {
  return {
    name: server.name,
    url: server.url,
    hostname: server.hostname,
    prefix: server.prefix,
    state: server.enabled ? 'Enabled' : 'Disabled',
    ...(server.credential !== undefined ? { credential: server.credential } : {}),
    ...(server.caCert !== undefined ? { caCert: server.caCert } : {}),
    userSpecificList: server.userSpecificList,
    category: server.category,
    ...(server.hint !== undefined ? { hint: server.hint } : {}),
    ...(server.tags.length > 0 ? { tags: server.tags } : {}),
    ...(server.toolOverrides !== undefined && server.toolOverrides.length > 0
      ? { toolOverrides: server.toolOverrides }
      : {}),
    ...(server.quotas !== undefined && server.quotas.length > 0 ? { quotas: server.quotas } : {}),
    ...(server.confirmDestructive === true ? { confirmDestructive: true } : {}),
    ...(server.pinning !== undefined ? { pinning: server.pinning } : {}),
    ...(server.tokenURLElicitation !== undefined ? { tokenURLElicitation: server.tokenURLElicitation } : {}),
    ...(server.tokenExchange !== undefined ? { tokenExchange: server.tokenExchange } : {}),
    ...(server.upstreamOAuth !== undefined ? { upstreamOAuth: server.upstreamOAuth } : {}),
  };
}

/**
 * The config file (`config.yaml`) for a config, in the schema of docs/configuration.md
 * (the anchor's, plus the access sections). The output is deterministic, so an unchanged config
 * is never rewritten.
 */
export function toConfigYaml(config: DesiredConfig): string {
  const file = {
    servers: config.servers.map(toFileServer),
    virtualServers: config.virtualServers.map((vs) => ({
      name: vs.name,
      tools: vs.tools,
      ...(vs.prompts !== undefined ? { prompts: vs.prompts } : {}),
    })),
    ...(config.gatewayCACertPEM !== undefined ? { gatewayCACertPEM: config.gatewayCACertPEM } : {}),
    ...(config.auth !== undefined ? { auth: config.auth } : {}),
    ...(config.policy !== undefined ? { policy: config.policy } : {}),
    ...(config.audit !== undefined ? { audit: config.audit } : {}),
    ...(config.confirmation !== undefined ? { confirmation: config.confirmation } : {}),
    ...(config.credentials !== undefined ? { credentials: config.credentials } : {}),
  };
  return stringify(file, { lineWidth: 0 });
}
