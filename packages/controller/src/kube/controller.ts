import type * as k8s from '@kubernetes/client-node';
import type { Logger } from '@mcp-gateway/core';
import type { KubeObject, McpGatewayExtension } from '../model/api-types.ts';
import { EMPTY_STATE, type ClusterState } from '../model/cluster-state.ts';
import type { ConfigOptions } from '../model/config-builder.ts';
import type { GatewayResourceOptions } from '../model/gateway-resources.ts';
import { planCluster, type ClusterPlan } from '../model/plan.ts';
import { prefixOf } from '../model/registrations.ts';
import { createKeySecretWatches } from './key-secret-watches.ts';
import { startGatewayStatusPoller, type GatewayStatusOptions, type GatewayStatusTarget } from './gateway-status.ts';
import { createKubeApi, type KubeApi } from './kube-api.ts';
import {
  reconcileConfig,
  reconcileExtension,
  reconcileRegistration,
  reconcileRoute,
  reconcileVirtualServer,
  type ReconcileContext,
} from './reconcilers.ts';
import { startWatch, WATCHED_RESOURCES, type Watch, type WatchedResource } from './watches.ts';
import { createWorkQueue } from './work-queue.ts';

/** Options of the controller. */
export interface ControllerOptions {
  readonly kubeConfig: k8s.KubeConfig;
  readonly logger: Logger;
  readonly resources: GatewayResourceOptions;
  /** Longest wait for the first list of every watch. Default 60 s. */
  readonly syncTimeoutMs?: number;
  /** What the written configs get from the controller's flags (`--gateway-confirmation-timeout`). */
  readonly config?: ConfigOptions;
  /** Where and how often the gateways' GET /status is read for the registrations' `toolPins`. */
  readonly gatewayStatus?: GatewayStatusOptions;
}

/** A running controller (the reconcile loop of the leader). */
export interface Controller {
  /** The desired state computed from the latest watch data. */
  plan(): ClusterPlan;
  /** Keys waiting or running. */
  readonly queued: number;
  stop(): Promise<void>;
}

/**
 * Starts the watches, waits until each has listed once (acting on a partial view could empty
 * a config), then reconciles everything and keeps reconciling what each change affects.
 * Every key is processed against a plan recomputed only when a watch saw a change.
 */
export async function startController(options: ControllerOptions): Promise<Controller> {
  const { logger } = options;
  const api: KubeApi = createKubeApi(options.kubeConfig);
  const ctx: ReconcileContext = {
    api,
    logger,
    resources: options.resources,
    now: () => new Date(),
    gatewayPins: (namespace) => gatewayStatus.pins(namespace),
  };
  let generation = 0;
  let cached: { generation: number; plan: ClusterPlan } | undefined;
  const watches: Watch[] = [];

  function state(): ClusterState {
    const entries = watches.map((w) => [w.resource.field, w.list()] as const);
    return { ...EMPTY_STATE, ...Object.fromEntries(entries) } as ClusterState;
  }
  function plan(): ClusterPlan {
    if (cached?.generation !== generation) cached = { generation, plan: planCluster(state(), options.config) };
    return cached.plan;
  }

  // One plan per batch of keys: a burst of changes is planned once, not once per key. Changes
  // seen during a batch re-queue their keys for the next batch, which gets a fresh plan.
  let batchPlan: ClusterPlan | undefined;
  const queue = createWorkQueue(
    async (key) => {
      const [kind, ...rest] = key.split('/');
      const id = rest.join('/');
      const current = batchPlan ?? plan();
      if (kind === 'config') await reconcileConfig(ctx, current, id);
      else if (kind === 'registration') await reconcileRegistration(ctx, current, id);
      else if (kind === 'route') await reconcileRoute(ctx, current, id);
      else if (kind === 'virtualserver') await reconcileVirtualServer(ctx, current, id);
      else if (kind === 'extension') {
        const again = await reconcileExtension(ctx, current, id);
        if (again !== undefined) queue.addAfter(key, again);
      }
    },
    {
      logger,
      beforeBatch: () => {
        batchPlan = plan();
      },
    },
  );

  // A virtual server's placement follows the configs', so its status is looked at with them.
  const enqueueConfigs = (current: ClusterPlan) => {
    for (const namespace of current.configs.keys()) queue.add(`config/${namespace}`);
    for (const key of current.virtualServers.keys()) queue.add(`virtualserver/${key}`);
  };
  const enqueueAll = (current: ClusterPlan) => {
    enqueueConfigs(current);
    for (const key of current.extensions.keys()) queue.add(`extension/${key}`);
    for (const e of current.index.state.extensions) queue.add(`extension/${e.metadata.namespace}/${e.metadata.name}`);
    for (const key of current.registrations.keys()) queue.add(`registration/${key}`);
    for (const key of current.routesInUse.keys()) queue.add(`route/${key}`);
  };

  /**
   * Maps a change to the keys it may affect (over-approximating is cheap: writes happen only on
   * difference). It reads the last plan computed rather than planning again: planning on every
   * event made a burst of N changes cost N full plans. The keys it queues are processed with a
   * fresh plan, and the changed object's own keys are always queued.
   */
  function onEvent(resource: WatchedResource, _event: string, object: KubeObject): void {
    generation += 1;
    const current = cached?.plan;
    if (!started || current === undefined) return;
    const namespace = object.metadata.namespace ?? '';
    const key = `${namespace}/${object.metadata.name}`;
    switch (resource.field) {
      case 'registrations': {
        enqueueConfigs(current);
        queue.add(`registration/${key}`);
        queue.add(
          `route/${namespace}/${(object as { spec?: { targetRef?: { name?: string } } }).spec?.targetRef?.name ?? ''}`,
        );
        const prefix = prefixOf(object as never);
        if (prefix !== '') {
          for (const r of current.index.state.registrations) {
            if (prefixOf(r) === prefix) queue.add(`registration/${r.metadata.namespace}/${r.metadata.name}`);
          }
        }
        break;
      }
      case 'virtualServers':
        enqueueConfigs(current);
        queue.add(`virtualserver/${key}`);
        break;
      case 'secrets':
        enqueueConfigs(current);
        queue.add(`config/${namespace}`);
        for (const e of current.index.state.extensions)
          if (e.metadata.namespace === namespace) queue.add(`extension/${keyOf(e)}`);
        for (const r of current.index.state.registrations)
          if (r.metadata.namespace === namespace) queue.add(`registration/${keyOf(r)}`);
        break;
      case 'deployments':
        for (const e of current.index.state.extensions)
          if (e.metadata.namespace === namespace) queue.add(`extension/${keyOf(e)}`);
        break;
      case 'services':
        enqueueConfigs(current);
        for (const r of current.index.state.registrations) queue.add(`registration/${keyOf(r)}`);
        break;
      default:
        // Extensions, Gateways, HTTPRoutes, ReferenceGrants and Namespaces can change any verdict.
        enqueueAll(current);
        if (resource.field === 'httpRoutes') queue.add(`route/${key}`);
        if (resource.field === 'extensions') {
          queue.add(`extension/${key}`);
          queue.add(`config/${namespace}`);
          keySecrets.sync(extensionList());
        }
    }
  }

  /** The extensions' trusted-header key Secrets, watched by name: a change reconciles the namespace's extension. */
  const keySecrets = createKeySecretWatches(options.kubeConfig, api, logger, (namespace) => {
    for (const e of extensionList()) if (e.metadata.namespace === namespace) queue.add(`extension/${keyOf(e)}`);
  });
  const extensionList = () =>
    (watches.find((w) => w.resource.field === 'extensions')?.list() ?? []) as McpGatewayExtension[];

  let started = false;
  for (const resource of WATCHED_RESOURCES) {
    watches.push(startWatch(options.kubeConfig, api, resource, logger, onEvent));
  }
  const deadline = Date.now() + (options.syncTimeoutMs ?? 60_000);
  while (!watches.every((w) => w.synced)) {
    if (Date.now() > deadline) {
      const missing = watches.filter((w) => !w.synced).map((w) => w.resource.path);
      await Promise.all(watches.map((w) => w.stop()));
      throw new Error(`controller: could not list ${missing.join(', ')} (are the CRDs installed and RBAC granted?)`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  // Reads the status of gateways whose config holds a pinned server; a report that changed
  // queues the registrations of that gateway.
  const gatewayStatus = startGatewayStatusPoller({
    status: options.gatewayStatus ?? {},
    logger,
    targets: () => pinnedGateways(plan()),
    onChange: (namespace) => {
      for (const [key, verdict] of plan().registrations)
        if (verdict.namespaces.includes(namespace)) queue.add(`registration/${key}`);
    },
  });
  started = true;
  generation += 1;
  enqueueAll(plan());
  keySecrets.sync(extensionList());
  logger.info('controller started', { watches: watches.length });

  return {
    plan,
    get queued() {
      return queue.size;
    },
    async stop() {
      gatewayStatus.stop();
      await queue.stop();
      await keySecrets.stop();
      await Promise.all(watches.map((w) => w.stop()));
    },
  };
}

/** The gateways whose config holds a pinned server: only their status is read. */
function pinnedGateways(plan: ClusterPlan): GatewayStatusTarget[] {
  const targets: GatewayStatusTarget[] = [];
  for (const verdict of plan.extensions.values()) {
    if (!verdict.valid) continue;
    const namespace = verdict.extension.metadata.namespace ?? '';
    if (targets.some((t) => t.namespace === namespace)) continue;
    if (plan.configs.get(namespace)?.servers.some((s) => s.pinning !== undefined) === true) {
      targets.push({ namespace, host: verdict.publicHost });
    }
  }
  return targets;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name}`;
}
