import type { ServerConfig } from '@mcp-gateway/core';
import type { HttpRoute, McpServerRegistration, QuotaSpec, ToolOverrideSpec } from './api-types.ts';
import { keyOf } from './api-types.ts';
import { byAge, type StateIndex } from './cluster-state.ts';
import type { ConditionInput } from './conditions.ts';
import { deriveEndpoint } from './endpoint.ts';
import type { ExtensionVerdict, ValidExtension } from './extension-validation.ts';
import { hostnamesIntersect, listenerAdmits, parentRefsTo, parentRejected } from './gateway-api.ts';
import { toFileQuotas } from './quotas.ts';
import { toFileToolOverrides } from './tool-overrides.ts';
import { toFilePinning, type FilePinning } from './tool-pins.ts';
import { readSecretValue } from './secret-values.ts';
import { toFileUserCredentials, urlElicitationRemarks, type FileUserCredentials } from './user-credentials.ts';
import { READY } from '../names.ts';

/** Reasons of a registration's Ready condition (the anchor's). */
export const REGISTRATION_REASONS = {
  ready: 'Ready',
  notReady: 'NotReady',
  disabled: 'Disabled',
  prefixConflict: 'PrefixConflict',
} as const;

/** Largest CA bundle a registration may reference (the anchor's limit). */
export const MAX_CA_CERT_BYTES = 64 * 1024;

/** What the controller makes of one registration. */
export interface RegistrationVerdict {
  readonly registration: McpServerRegistration;
  readonly condition: ConditionInput;
  /** Extension namespaces whose config holds this server. */
  readonly namespaces: readonly string[];
  /** `<namespace>/<name>` of the Gateways whose served listeners carry it (for the HTTPRoute status). */
  readonly gateways: readonly string[];
}

/**
 * A server entry as the controller writes it: the gateway's server config, with `toolOverrides`,
 * `quotas`, `pinning` and the per-user credential method in the file's spelling (as the
 * registration wrote them, the approvals from its annotation, client secrets read from their
 * Secrets), each absent when there are none, and `confirmDestructive` only when true.
 */
export type DesiredServer = Omit<
  ServerConfig,
  | 'toolOverrides'
  | 'quotas'
  | 'pinning'
  | 'confirmDestructive'
  | 'tokenURLElicitation'
  | 'tokenExchange'
  | 'upstreamOAuth'
> &
  FileUserCredentials & {
    readonly toolOverrides?: readonly ToolOverrideSpec[];
    readonly quotas?: readonly QuotaSpec[];
    readonly confirmDestructive?: true;
    readonly pinning?: FilePinning;
  };

/** The result of resolving every registration: statuses and the servers per config namespace. */
export interface RegistrationResolution {
  readonly verdicts: ReadonlyMap<string, RegistrationVerdict>;
  readonly serversByNamespace: ReadonlyMap<string, readonly DesiredServer[]>;
}

const condition = (status: 'True' | 'False', reason: string, message: string): ConditionInput => ({
  type: READY,
  status,
  reason,
  message,
});

/** The served prefix: `spec.prefix`, else the seeds' `spec.toolPrefix`, else none. */
export function prefixOf(registration: McpServerRegistration): string {
  return registration.spec.prefix || registration.spec.toolPrefix || '';
}

type Candidate =
  | {
      readonly ok: true;
      readonly server: DesiredServer;
      readonly extensions: readonly ValidExtension[];
      /** Sentences added to the Ready condition's message (a malformed approval annotation). */
      readonly remarks: readonly string[];
    }
  | { readonly ok: false; readonly condition: ConditionInput };

/**
 * Resolves every registration against the valid extensions: the listener its HTTPRoute attaches
 * to must be served by one (else NotReady), disabled ones are left out (Disabled), and within one
 * config a non-empty prefix belongs to the oldest registration (the others: PrefixConflict).
 */
export function resolveRegistrations(
  index: StateIndex,
  extensions: ReadonlyMap<string, ExtensionVerdict>,
): RegistrationResolution {
  const valid = [...extensions.values()].filter((v): v is ValidExtension => v.valid);
  const verdicts = new Map<string, RegistrationVerdict>();
  const serversByNamespace = new Map<string, DesiredServer[]>(
    valid.map((v) => [v.extension.metadata.namespace ?? '', []]),
  );
  const prefixOwners = new Map<string, string>();
  const registrations = index.state.registrations.filter((r) => r.metadata.deletionTimestamp === undefined).sort(byAge);
  for (const registration of registrations) {
    const key = keyOf(registration);
    const candidate = judgeRegistration(index, registration, valid);
    if (!candidate.ok) {
      verdicts.set(key, { registration, condition: candidate.condition, namespaces: [], gateways: [] });
      continue;
    }
    const namespaces: string[] = [];
    const gateways: string[] = [];
    const conflicts: string[] = [];
    for (const extension of candidate.extensions) {
      const namespace = extension.extension.metadata.namespace ?? '';
      const prefix = candidate.server.prefix;
      const owner = prefix === '' ? undefined : prefixOwners.get(`${namespace}\u0000${prefix}`);
      if (owner !== undefined) {
        conflicts.push(
          `prefix "${prefix}" is already used by MCPServerRegistration ${owner} in the gateway of namespace ${namespace}`,
        );
        continue;
      }
      if (prefix !== '') prefixOwners.set(`${namespace}\u0000${prefix}`, key);
      serversByNamespace.get(namespace)?.push(candidate.server);
      namespaces.push(namespace);
      gateways.push(keyOf(extension.gateway));
    }
    const ready =
      namespaces.length > 0
        ? condition(
            'True',
            REGISTRATION_REASONS.ready,
            `config written to the gateway in namespace ${namespaces.join(', ')}`,
          )
        : condition('False', REGISTRATION_REASONS.prefixConflict, conflicts.join('; '));
    const remarked =
      candidate.remarks.length === 0 ? ready : { ...ready, message: [ready.message, ...candidate.remarks].join('; ') };
    verdicts.set(key, { registration, condition: remarked, namespaces, gateways });
  }
  return { verdicts, serversByNamespace };
}

function judgeRegistration(
  index: StateIndex,
  registration: McpServerRegistration,
  valid: readonly ValidExtension[],
): Candidate {
  const namespace = registration.metadata.namespace ?? '';
  if (registration.spec.state === 'Disabled') {
    return {
      ok: false,
      condition: condition(
        'False',
        REGISTRATION_REASONS.disabled,
        'spec.state is Disabled: the server is in no gateway config',
      ),
    };
  }
  const target = registration.spec.targetRef;
  const notReady = (message: string) => ({
    ok: false as const,
    condition: condition('False', REGISTRATION_REASONS.notReady, message),
  });
  if ((target.kind ?? 'HTTPRoute') !== 'HTTPRoute')
    return notReady(`spec.targetRef.kind ${target.kind} is not supported`);
  const route = index.httpRoutes.get(`${namespace}/${target.name}`);
  if (route === undefined) return notReady(`HTTPRoute ${namespace}/${target.name} not found`);
  const extensions = valid.filter((v) => routeAttaches(index, route, v));
  if (extensions.length === 0) {
    return notReady(
      `no valid MCPGatewayExtension serves a listener that HTTPRoute ${namespace}/${target.name} attaches to`,
    );
  }
  const endpoint = deriveEndpoint(index, registration, route);
  if (!endpoint.ok) return notReady(endpoint.message);
  const credential = readSecretValue(index, namespace, registration.spec.credentialRef, 'token', 'credentialRef');
  if (!credential.ok) return notReady(credential.message);
  const caCert = readSecretValue(index, namespace, registration.spec.caCertSecretRef, 'ca.crt', 'caCertSecretRef');
  if (!caCert.ok) return notReady(caCert.message);
  if (caCert.value !== undefined) {
    if (caCert.value.length > MAX_CA_CERT_BYTES) return notReady(`caCertSecretRef: CA bundle is larger than 64 KiB`);
    if (!caCert.value.includes('-----BEGIN CERTIFICATE-----')) {
      return notReady('caCertSecretRef: the Secret holds no PEM certificate (-----BEGIN CERTIFICATE-----)');
    }
  }
  const userCredentials = toFileUserCredentials(index, registration);
  if (!userCredentials.ok) return notReady(userCredentials.message);
  const toolOverrides = toFileToolOverrides(registration.spec.toolOverrides);
  const quotas = toFileQuotas(registration.spec.quotas);
  const { pinning, remarks } = toFilePinning(registration);
  const server: DesiredServer = {
    name: `${namespace}/${registration.metadata.name}`,
    url: endpoint.url,
    hostname: endpoint.hostname ?? new URL(endpoint.url).host,
    prefix: prefixOf(registration),
    enabled: true,
    ...(credential.value !== undefined ? { credential: credential.value } : {}),
    ...(caCert.value !== undefined ? { caCert: caCert.value } : {}),
    userSpecificList: registration.spec.userSpecificList === 'Enabled',
    category: registration.spec.category ?? ['uncategorised'],
    ...(registration.spec.hint !== undefined ? { hint: registration.spec.hint } : {}),
    tags: registration.spec.tags ?? [],
    ...(toolOverrides.length > 0 ? { toolOverrides } : {}),
    ...(quotas.length > 0 ? { quotas } : {}),
    ...(registration.spec.confirmDestructive === true ? { confirmDestructive: true as const } : {}),
    ...(pinning !== undefined ? { pinning } : {}),
    ...userCredentials.fields,
  };
  return { ok: true, server, extensions, remarks: [...remarks, ...urlElicitationRemarks(registration, extensions)] };
}

/**
 * True when the route is attached to the extension's listener: a parentRef names the Gateway
 * and that listener (or another listener on the same port, where the same ext_proc runs), or no
 * section with a matching port; the listener admits the route's namespace; the hostnames meet;
 * and the Gateway implementation has not refused the parent.
 */
function routeAttaches(index: StateIndex, route: HttpRoute, extension: ValidExtension): boolean {
  const gatewayNamespace = extension.gateway.metadata.namespace ?? '';
  const routeNamespace = route.metadata.namespace ?? '';
  const listeners = extension.gateway.spec.listeners ?? [];
  return parentRefsTo(route, gatewayNamespace, extension.gateway.metadata.name).some((ref) => {
    if (parentRejected(route, ref, gatewayNamespace)) return false;
    const candidates =
      ref.sectionName !== undefined
        ? listeners.filter((l) => l.name === ref.sectionName)
        : listeners.filter((l) => ref.port === undefined || l.port === ref.port);
    return candidates.some(
      (listener) =>
        listener.port === extension.listener.port &&
        listenerAdmits(listener, gatewayNamespace, routeNamespace, index.namespaceLabels.get(routeNamespace)) &&
        ((route.spec.hostnames ?? []).length === 0 ||
          (route.spec.hostnames ?? []).some((h) => hostnamesIntersect(h, listener.hostname))),
    );
  });
}
