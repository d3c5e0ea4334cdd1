import { randomBytes } from 'node:crypto';
import type { Logger } from '@mcp-gateway/core';
import type { Condition, Deployment, Gateway, KubeObject, McpGatewayExtension, Secret } from '../model/api-types.ts';
import { keyOf } from '../model/api-types.ts';
import { conditionHolds, setCondition, type ConditionInput } from '../model/conditions.ts';
import { EXTENSION_REASONS, type ValidExtension } from '../model/extension-validation.ts';
import {
  configSecret,
  envoyFilterName,
  gatewayDeployment,
  gatewayEnvoyFilter,
  gatewayService,
  gatewayServiceAccount,
  signingKeySecret,
  type GatewayResourceOptions,
} from '../model/gateway-resources.ts';
import { gatewayRoute, tokensRoute } from '../model/gateway-routes.ts';
import type { ClusterPlan } from '../model/plan.ts';
import { desiredPinStatus, type GatewayPins } from '../model/tool-pins-status.ts';
import {
  CONFIG_SECRET_KEY,
  CONFIG_SECRET_NAME,
  FIELD_MANAGER,
  FINALIZER,
  GATEWAY_API_GROUP,
  MANAGED_BY_LABEL,
  MCP_API,
  READY,
  SIGNING_KEY_SECRET_KEY,
  SIGNING_KEY_SECRET_NAME,
  TOKENS_ROUTE_NAME,
  TOOLS_QUARANTINED,
} from '../names.ts';
import { KubeApiError, objectPath, pathOf, type KubeApi } from './kube-api.ts';
import { reconcileTrustedHeadersKey } from './trusted-headers.ts';

/** What the reconcilers need besides the plan. */
export interface ReconcileContext {
  readonly api: KubeApi;
  readonly logger: Logger;
  readonly resources: GatewayResourceOptions;
  readonly now: () => Date;
  /** The pinned servers the gateway of a namespace last reported (GET /status), if it has. */
  readonly gatewayPins?: (namespace: string) => ReadonlyMap<string, GatewayPins> | undefined;
}

/** Minimum decoded length of a usable signing key. */
const MIN_SIGNING_KEY_BYTES = 32;

/** Writes the config Secret of `namespace` when its content differs from the plan. */
export async function reconcileConfig(ctx: ReconcileContext, plan: ClusterPlan, namespace: string): Promise<void> {
  const desired = plan.configYaml(namespace);
  if (desired === undefined) return;
  const current = plan.index.secrets.get(`${namespace}/${CONFIG_SECRET_NAME}`);
  const encoded = current?.data?.[CONFIG_SECRET_KEY];
  if (encoded !== undefined && Buffer.from(encoded, 'base64').toString('utf8') === desired) return;
  await ctx.api.apply(withData(configSecret(namespace, desired)));
  ctx.logger.info('config written', { namespace });
}

/**
 * Writes a registration's status when it changed: the Ready condition and, with `spec.pinning`,
 * `toolPins` and the ToolsQuarantined condition from its gateway's report. Everything the
 * controller owns in the status goes in one server-side apply: a field left out of an apply is
 * removed from the manager's set, so a Ready-only write would drop `toolPins`.
 */
export async function reconcileRegistration(ctx: ReconcileContext, plan: ClusterPlan, key: string): Promise<void> {
  const verdict = plan.registrations.get(key);
  if (verdict === undefined) return;
  const registration = verdict.registration;
  const pins = desiredPinStatus(registration, [...verdict.namespaces].sort(), (ns) => ctx.gatewayPins?.(ns));
  const generation = registration.metadata.generation;
  const current = registration.status;
  const pinConditionHolds =
    pins.condition === undefined
      ? !(current?.conditions ?? []).some((c) => c.type === TOOLS_QUARANTINED)
      : conditionHolds(current?.conditions, pins.condition, generation);
  if (
    conditionHolds(current?.conditions, verdict.condition, generation) &&
    pinConditionHolds &&
    canonicalJson(pins.toolPins) === canonicalJson(current?.toolPins)
  ) {
    return;
  }
  const withReady = setCondition(current?.conditions, verdict.condition, generation, ctx.now());
  const conditions =
    pins.condition === undefined
      ? withReady.filter((c) => c.type !== TOOLS_QUARANTINED)
      : setCondition(withReady, pins.condition, generation, ctx.now());
  await ctx.api.applyStatus(withKind(registration, MCP_API, 'MCPServerRegistration'), {
    conditions,
    ...(pins.toolPins !== undefined ? { toolPins: pins.toolPins } : {}),
  });
}

/** JSON with object keys sorted, to compare what the API server echoes with what is desired. */
function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, inner: unknown) =>
      typeof inner === 'object' && inner !== null && !Array.isArray(inner)
        ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
        : inner,
    ) ?? 'undefined'
  );
}

/** Writes a virtual server's Ready condition (which configs carry it) when it changed. */
export async function reconcileVirtualServer(ctx: ReconcileContext, plan: ClusterPlan, key: string): Promise<void> {
  const verdict = plan.virtualServers.get(key);
  if (verdict === undefined) return;
  await writeCondition(ctx, verdict.virtualServer, 'MCPVirtualServer', verdict.condition);
}

/** Condition the controller puts on an HTTPRoute's status parents that serve a registration. */
const ROUTE_CONDITION: ConditionInput = {
  type: 'Programmed',
  status: 'True',
  reason: 'InUseByMCPServerRegistration',
  message: 'HTTPRoute is in use by an MCPServerRegistration',
};

/**
 * Sets the `Programmed` (InUseByMCPServerRegistration) condition on the HTTPRoute's status
 * parent entries for the Gateways whose gateway config holds a registration of it, and removes
 * it from the others, as the anchor does. Parent entries are the Gateway implementation's; the
 * list is atomic, so it is written with a merge patch guarded by the resourceVersion.
 */
export async function reconcileRoute(ctx: ReconcileContext, plan: ClusterPlan, key: string): Promise<void> {
  const route = plan.index.httpRoutes.get(key);
  const parents = route?.status?.parents;
  if (route === undefined || parents === undefined || parents.length === 0) return;
  const inUse = plan.routesInUse.get(key) ?? new Set<string>();
  let changed = false;
  const next = parents.map((parent) => {
    const gateway = `${parent.parentRef.namespace ?? route.metadata.namespace}/${parent.parentRef.name}`;
    const want = inUse.has(gateway);
    const has = parent.conditions?.some((c) => c.type === ROUTE_CONDITION.type && c.reason === ROUTE_CONDITION.reason);
    if (want === has) return parent;
    changed = true;
    const conditions = want
      ? setCondition(parent.conditions, ROUTE_CONDITION, route.metadata.generation, ctx.now())
      : (parent.conditions ?? []).filter((c) => c.type !== ROUTE_CONDITION.type);
    return { ...parent, conditions };
  });
  if (!changed) return;
  await ctx.api.mergePatch(`${pathOf(withKind(route, 'gateway.networking.k8s.io/v1', 'HTTPRoute'))}/status`, {
    metadata: { resourceVersion: route.metadata.resourceVersion },
    status: { parents: next },
  });
}

/**
 * Brings one extension's world in line with the plan: finalizer, status, and for a valid one the
 * signing key, the trusted-header key, ServiceAccount, Deployment, Service, HTTPRoute and, once
 * the Deployment is ready, the EnvoyFilter. Ready is False while the trusted-header key is
 * unusable (nothing after it is applied) or the config is held back (InvalidPolicy,
 * InvalidConfig: everything else is applied). On deletion it removes the EnvoyFilter and then its
 * finalizer.
 * @returns a delay after which to look again (waiting for the Deployment), or undefined.
 */
export async function reconcileExtension(
  ctx: ReconcileContext,
  plan: ClusterPlan,
  key: string,
): Promise<number | undefined> {
  const extension = plan.index.state.extensions.find((e) => keyOf(e) === key);
  if (extension === undefined) return undefined;
  if (extension.metadata.deletionTimestamp !== undefined) {
    await finalizeExtension(ctx, plan, extension);
    return undefined;
  }
  if (!(extension.metadata.finalizers ?? []).includes(FINALIZER)) {
    await ctx.api.mergePatch(pathOf(withKind(extension)), {
      metadata: {
        finalizers: [...(extension.metadata.finalizers ?? []), FINALIZER],
        resourceVersion: extension.metadata.resourceVersion,
      },
    });
    return undefined; // the update event brings it back with the finalizer
  }
  const verdict = plan.extensions.get(key);
  if (verdict === undefined) return undefined;
  if (!verdict.valid) {
    await deleteEnvoyFilters(ctx, plan, extension);
    await writeCondition(ctx, extension, 'MCPGatewayExtension', {
      type: READY,
      status: 'False',
      reason: verdict.reason,
      message: verdict.message,
    });
    return undefined;
  }
  return reconcileValidExtension(ctx, plan, verdict);
}

/** The part of reconcileExtension for a valid extension, from its keys to its Ready condition. */
/** `object` with the resourceVersion of `current`, so the apply fails if `current` is stale. */
function pinnedTo<T extends KubeObject>(object: T, current: KubeObject | undefined): T {
  const resourceVersion = current?.metadata.resourceVersion;
  if (resourceVersion === undefined) return object;
  return { ...object, metadata: { ...object.metadata, resourceVersion } };
}

async function reconcileValidExtension(
  ctx: ReconcileContext,
  plan: ClusterPlan,
  verdict: ValidExtension,
): Promise<number | undefined> {
  const extension = verdict.extension;
  await ensureSigningKey(ctx, plan, verdict);
  // Without a usable key the Deployment is left as it is: new pods could not start, or would
  // trust nothing; the running ones keep serving. A change to the Secret brings the key back.
  const trustedKey = await reconcileTrustedHeadersKey(ctx, verdict);
  if (!trustedKey.ok) {
    await writeCondition(ctx, extension, 'MCPGatewayExtension', {
      type: READY,
      status: 'False',
      reason: trustedKey.reason,
      message: trustedKey.message,
    });
    return undefined;
  }
  // The Deployment is read from the API server, not the watch cache: flags a user just added to
  // it must be carried over, and the apply is pinned to the version read, so an edit that lands
  // in between makes the apply fail with a conflict and the reconcile run again.
  const current = await ctx.api.get<Deployment>(
    objectPath('apps/v1', 'Deployment', extension.metadata.namespace, 'mcp-gateway'),
  );
  await ctx.api.apply(gatewayServiceAccount(verdict));
  await ctx.api.apply(pinnedTo(gatewayDeployment(verdict, ctx.resources, current, trustedKey.fingerprint), current));
  await ctx.api.apply(gatewayService(verdict));
  if (extension.spec.httpRouteManagement !== 'Disabled') {
    await ctx.api.apply(gatewayRoute(verdict));
    await reconcileTokensRoute(ctx, plan, verdict);
  }
  const ready = deploymentReady(current);
  if (ready) {
    await ctx.api.apply(gatewayEnvoyFilter(verdict));
    await setListenerCondition(ctx, verdict, true);
  }
  // A config the gateway would refuse is not written; everything else above is kept in line.
  const problem = plan.configProblem(extension.metadata.namespace ?? '');
  if (problem !== undefined) {
    await writeCondition(ctx, extension, 'MCPGatewayExtension', { type: READY, status: 'False', ...problem });
    return ready ? undefined : 5_000;
  }
  if (!ready) {
    await writeCondition(ctx, extension, 'MCPGatewayExtension', {
      type: READY,
      status: 'False',
      reason: EXTENSION_REASONS.deploymentNotReady,
      message: 'the gateway Deployment mcp-gateway is not ready',
    });
    return 5_000;
  }
  await writeCondition(ctx, extension, 'MCPGatewayExtension', {
    type: READY,
    status: 'True',
    reason: EXTENSION_REASONS.valid,
    message: 'successfully verified and configured',
  });
  return undefined;
}

/**
 * The `/tokens` route follows `urlElicitation` (as the anchor): applied while Enabled, deleted
 * once Disabled. Only a route the controller made (its managed-by label) is deleted, and only
 * when the watch has seen one, so a Disabled extension costs no request.
 */
async function reconcileTokensRoute(ctx: ReconcileContext, plan: ClusterPlan, verdict: ValidExtension): Promise<void> {
  const namespace = verdict.extension.metadata.namespace ?? '';
  if (verdict.extension.spec.urlElicitation === 'Enabled') {
    await ctx.api.apply(tokensRoute(verdict));
    return;
  }
  const current = plan.index.httpRoutes.get(`${namespace}/${TOKENS_ROUTE_NAME}`);
  if (current?.metadata.labels?.[MANAGED_BY_LABEL] !== FIELD_MANAGER) return;
  await ctx.api.delete(objectPath(`${GATEWAY_API_GROUP}/v1`, 'HTTPRoute', namespace, TOKENS_ROUTE_NAME));
  ctx.logger.info('tokens route deleted', { namespace });
}

/** True when every replica of the Deployment is ready (and there is at least one). */
export function deploymentReady(deployment: Deployment | undefined): boolean {
  const ready = deployment?.status?.readyReplicas ?? 0;
  return ready > 0 && ready === (deployment?.status?.replicas ?? 0);
}

async function finalizeExtension(
  ctx: ReconcileContext,
  plan: ClusterPlan,
  extension: McpGatewayExtension,
): Promise<void> {
  if (!(extension.metadata.finalizers ?? []).includes(FINALIZER)) return;
  await deleteEnvoyFilters(ctx, plan, extension);
  const gatewayKey = `${extension.spec.targetRef.namespace || extension.metadata.namespace}/${extension.spec.targetRef.name}`;
  const gateway = plan.index.gateways.get(gatewayKey);
  const listener = gateway?.spec.listeners?.find((l) => l.name === extension.spec.targetRef.sectionName);
  if (gateway !== undefined && listener !== undefined) {
    await setListenerCondition(ctx, { extension, gateway, listener } as ValidExtension, false);
  }
  await ctx.api.mergePatch(pathOf(withKind(extension)), {
    metadata: {
      finalizers: (extension.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
      resourceVersion: extension.metadata.resourceVersion,
    },
  });
  ctx.logger.info('extension finalized', { extension: keyOf(extension) });
}

/** Deletes the EnvoyFilter of this extension (in whichever Gateway namespace it was put). */
async function deleteEnvoyFilters(
  ctx: ReconcileContext,
  plan: ClusterPlan,
  extension: McpGatewayExtension,
): Promise<void> {
  const namespace = extension.metadata.namespace ?? '';
  const gatewayNamespace = extension.spec.targetRef.namespace || namespace;
  const namespaces = new Set([gatewayNamespace, ...plan.index.state.gateways.map((g) => g.metadata.namespace ?? '')]);
  for (const ns of namespaces) {
    await ctx.api.delete(objectPath('networking.istio.io/v1alpha3', 'EnvoyFilter', ns, envoyFilterName(namespace)));
  }
}

/** Creates the signing key Secret once; repairs it only when it is missing or too short. */
async function ensureSigningKey(ctx: ReconcileContext, plan: ClusterPlan, valid: ValidExtension): Promise<void> {
  const namespace = valid.extension.metadata.namespace ?? '';
  let secret: Secret | undefined = plan.index.secrets.get(`${namespace}/${SIGNING_KEY_SECRET_NAME}`);
  secret ??= await ctx.api.get<Secret>(objectPath('v1', 'Secret', namespace, SIGNING_KEY_SECRET_NAME));
  const encoded = secret?.data?.[SIGNING_KEY_SECRET_KEY];
  const key = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8');
  if (Buffer.byteLength(key) >= MIN_SIGNING_KEY_BYTES) return;
  const fresh = withData(signingKeySecret(valid, randomBytes(32).toString('hex')));
  if (secret === undefined) {
    try {
      await ctx.api.create(fresh);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 409)) throw error;
    }
  } else {
    await ctx.api.apply(fresh);
  }
  ctx.logger.info('session signing key generated', { namespace });
}

/**
 * Sets (or removes) the `MCPGatewayExtension` condition on the Gateway's listener status, as
 * the anchor does. Only when the Gateway implementation has created the listener's status
 * entry; a failure here is logged, it does not fail the reconcile.
 */
async function setListenerCondition(ctx: ReconcileContext, valid: ValidExtension, present: boolean): Promise<void> {
  const gateway: Gateway = valid.gateway;
  const entry = gateway.status?.listeners?.find((l) => l.name === valid.listener.name);
  if (entry === undefined) return;
  const namespace = valid.extension.metadata.namespace ?? '';
  const condition: ConditionInput = {
    type: 'MCPGatewayExtension',
    status: 'True',
    reason: 'Programmed',
    message: `listener in use by MCP Gateway: ${keyOf(valid.extension)} EnvoyFilter: ${gateway.metadata.namespace}/${envoyFilterName(namespace)}`,
  };
  if (present && conditionHolds(entry.conditions, condition, gateway.metadata.generation)) return;
  const conditions = present ? setCondition([], condition, gateway.metadata.generation, ctx.now()) : [];
  try {
    await ctx.api.applyStatus(withKind(gateway, 'gateway.networking.k8s.io/v1', 'Gateway'), {
      listeners: present ? [{ name: valid.listener.name, conditions }] : [],
    });
  } catch (error) {
    ctx.logger.warn('could not set the Gateway listener condition', { gateway: keyOf(gateway), error: String(error) });
  }
}

async function writeCondition(
  ctx: ReconcileContext,
  object: KubeObject & { status?: { conditions?: readonly Condition[] } },
  kind: string,
  condition: ConditionInput,
): Promise<void> {
  const generation = object.metadata.generation;
  if (conditionHolds(object.status?.conditions, condition, generation)) return;
  const conditions = setCondition(object.status?.conditions, condition, generation, ctx.now());
  await ctx.api.applyStatus(withKind(object, MCP_API, kind), { conditions });
}

function withKind<T extends KubeObject>(object: T, apiVersion = MCP_API, kind = 'MCPGatewayExtension'): T {
  return { ...object, apiVersion: object.apiVersion ?? apiVersion, kind: object.kind ?? kind };
}

/** Turns `stringData` into base64 `data` (server-side apply should own `data`, not the write-only field). */
function withData(object: KubeObject & Record<string, unknown>): KubeObject & Record<string, unknown> {
  const { stringData, ...rest } = object as { stringData?: Record<string, string> } & KubeObject &
    Record<string, unknown>;
  const data = Object.fromEntries(
    Object.entries(stringData ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return { ...rest, data };
}
