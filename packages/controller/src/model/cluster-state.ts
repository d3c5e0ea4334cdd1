import type {
  Deployment,
  Gateway,
  HttpRoute,
  KubeObject,
  McpGatewayExtension,
  McpServerRegistration,
  McpVirtualServer,
  ReferenceGrant,
  Secret,
  Service,
} from './api-types.ts';

/** Everything the reconcilers read, as the watches last saw it. */
export interface ClusterState {
  readonly extensions: readonly McpGatewayExtension[];
  readonly registrations: readonly McpServerRegistration[];
  readonly virtualServers: readonly McpVirtualServer[];
  readonly gateways: readonly Gateway[];
  readonly httpRoutes: readonly HttpRoute[];
  readonly referenceGrants: readonly ReferenceGrant[];
  readonly services: readonly Service[];
  /** Only Secrets labelled `mcp.kuadrant.io/secret=true`. */
  readonly secrets: readonly Secret[];
  readonly namespaces: readonly KubeObject[];
  /** Only Deployments the controller manages. */
  readonly deployments: readonly Deployment[];
}

/** An empty state (tests start from it). */
export const EMPTY_STATE: ClusterState = {
  extensions: [],
  registrations: [],
  virtualServers: [],
  gateways: [],
  httpRoutes: [],
  referenceGrants: [],
  services: [],
  secrets: [],
  namespaces: [],
  deployments: [],
};

/** Objects of one kind by `<namespace>/<name>`. */
export type ObjectIndex<T extends KubeObject> = ReadonlyMap<string, T>;

export function indexByKey<T extends KubeObject>(objects: readonly T[]): ObjectIndex<T> {
  return new Map(objects.map((o) => [`${o.metadata.namespace ?? ''}/${o.metadata.name}`, o]));
}

/** Lookups over a ClusterState, built once per reconcile pass. */
export interface StateIndex {
  readonly state: ClusterState;
  readonly gateways: ObjectIndex<Gateway>;
  readonly httpRoutes: ObjectIndex<HttpRoute>;
  readonly services: ObjectIndex<Service>;
  readonly secrets: ObjectIndex<Secret>;
  readonly namespaceLabels: ReadonlyMap<string, Readonly<Record<string, string>>>;
  readonly deployments: ObjectIndex<Deployment>;
}

export function indexState(state: ClusterState): StateIndex {
  return {
    state,
    gateways: indexByKey(state.gateways),
    httpRoutes: indexByKey(state.httpRoutes),
    services: indexByKey(state.services),
    secrets: indexByKey(state.secrets),
    namespaceLabels: new Map(state.namespaces.map((n) => [n.metadata.name, n.metadata.labels ?? {}])),
    deployments: indexByKey(state.deployments),
  };
}

/** Oldest first by creationTimestamp, then by namespace/name (a stable order for "the oldest wins"). */
export function byAge(a: KubeObject, b: KubeObject): number {
  const ta = Date.parse(a.metadata.creationTimestamp ?? '') || 0;
  const tb = Date.parse(b.metadata.creationTimestamp ?? '') || 0;
  if (ta !== tb) return ta - tb;
  const ka = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
