import * as k8s from '@kubernetes/client-node';
import type { Logger } from '@mcp-gateway/core';
import type { KubeObject } from '../model/api-types.ts';
import type { ClusterState } from '../model/cluster-state.ts';
import { MANAGED_BY_LABEL, FIELD_MANAGER, SECRET_LABEL } from '../names.ts';
import type { KubeApi } from './kube-api.ts';

/** One watched collection: where its objects go in the ClusterState. */
export interface WatchedResource {
  readonly field: keyof ClusterState;
  readonly path: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

/** Everything the controller watches, cluster-wide. */
export const WATCHED_RESOURCES: readonly WatchedResource[] = [
  { field: 'extensions', path: '/apis/mcp.kuadrant.io/v1/mcpgatewayextensions' },
  { field: 'registrations', path: '/apis/mcp.kuadrant.io/v1/mcpserverregistrations' },
  { field: 'virtualServers', path: '/apis/mcp.kuadrant.io/v1/mcpvirtualservers' },
  { field: 'gateways', path: '/apis/gateway.networking.k8s.io/v1/gateways' },
  { field: 'httpRoutes', path: '/apis/gateway.networking.k8s.io/v1/httproutes' },
  { field: 'referenceGrants', path: '/apis/gateway.networking.k8s.io/v1beta1/referencegrants' },
  { field: 'services', path: '/api/v1/services' },
  { field: 'secrets', path: '/api/v1/secrets', labelSelector: `${SECRET_LABEL}=true` },
  { field: 'namespaces', path: '/api/v1/namespaces' },
  { field: 'deployments', path: '/apis/apps/v1/deployments', labelSelector: `${MANAGED_BY_LABEL}=${FIELD_MANAGER}` },
];

/** A change seen by a watch. */
export type WatchEvent = 'add' | 'update' | 'delete';

/** A running watch and the objects it has seen. */
export interface Watch {
  readonly resource: WatchedResource;
  list(): KubeObject[];
  /** True once the first list succeeded. */
  readonly synced: boolean;
  stop(): Promise<void>;
}

/**
 * Drops what the controller never reads from a cached object: `managedFields` (often the
 * largest part of an object) and kubectl's last-applied annotation.
 */
function slim(object: unknown): void {
  const metadata = (
    object as { metadata?: { managedFields?: unknown; annotations?: Record<string, string> } } | undefined
  )?.metadata;
  if (metadata === undefined) return;
  delete metadata.managedFields;
  if (metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'] !== undefined) {
    delete metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
}

/** client-node's Watch, with each object slimmed before the informer caches it. */
class SlimWatch extends k8s.Watch {
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      queryParams,
      (phase, object, watchObj) => {
        slim(object);
        callback(phase, object, watchObj);
      },
      done,
    );
  }
}

const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;

/**
 * Lists then watches one collection (client-node's informer: it re-lists on 410 Gone itself).
 * The informer stops on any other error, so this restarts it with exponential backoff.
 */
export function startWatch(
  kubeConfig: k8s.KubeConfig,
  api: KubeApi,
  resource: WatchedResource,
  logger: Logger,
  onEvent: (resource: WatchedResource, event: WatchEvent, object: KubeObject) => void,
): Watch {
  let synced = false;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  const listFn = async () => {
    const list = await api.list<KubeObject>(resource.path, resource.labelSelector, resource.fieldSelector);
    list.items.forEach(slim);
    synced = true;
    failures = 0;
    return list as unknown as k8s.KubernetesListObject<k8s.KubernetesObject>;
  };
  const informer = new k8s.ListWatch<k8s.KubernetesObject>(
    resource.path,
    new SlimWatch(kubeConfig),
    listFn,
    false,
    resource.labelSelector,
    resource.fieldSelector,
  );
  const emit = (event: WatchEvent) => (object: k8s.KubernetesObject) =>
    onEvent(resource, event, object as unknown as KubeObject);
  informer.on(k8s.ADD, emit('add'));
  informer.on(k8s.UPDATE, emit('update'));
  informer.on(k8s.DELETE, emit('delete'));
  informer.on(k8s.ERROR, (error: unknown) => {
    if (stopped) return;
    failures += 1;
    const delay = Math.min(RESTART_BASE_MS * 2 ** (failures - 1), RESTART_MAX_MS);
    logger.warn('watch failed, restarting', {
      path: resource.path,
      retryInMs: delay,
      error: error instanceof Error ? error.message : String(error),
    });
    timer = setTimeout(() => {
      if (!stopped) void informer.start().catch(() => undefined);
    }, delay);
    timer.unref();
  });
  void informer.start().catch(() => undefined);
  return {
    resource,
    list: () => informer.list() as unknown as KubeObject[],
    get synced() {
      return synced;
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      await informer.stop();
    },
  };
}
