// Builders of the objects the model tests use (kept out of the package's exports).
import type {
  Gateway,
  HttpRoute,
  Listener,
  McpGatewayExtension,
  McpServerRegistration,
  ReferenceGrant,
  Secret,
  Service,
} from './api-types.ts';
import { EMPTY_STATE, type ClusterState } from './cluster-state.ts';

let clock = Date.parse('2026-01-01T00:00:00Z');
/** Creation timestamps in call order, one second apart (so "the oldest" is the first built). */
function created(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

export function state(parts: Partial<ClusterState>): ClusterState {
  return { ...EMPTY_STATE, ...parts };
}

export function gateway(namespace: string, name: string, listeners: Listener[], className = 'istio'): Gateway {
  return {
    metadata: { namespace, name, creationTimestamp: created() },
    spec: { gatewayClassName: className, listeners },
  };
}

export function listener(name: string, port: number, hostname?: string, extra: Partial<Listener> = {}): Listener {
  return { name, port, protocol: 'HTTP', ...(hostname !== undefined ? { hostname } : {}), ...extra };
}

export function extension(
  namespace: string,
  name: string,
  target: { name: string; namespace?: string; sectionName?: string },
  spec: Partial<McpGatewayExtension['spec']> = {},
): McpGatewayExtension {
  return {
    apiVersion: 'mcp.kuadrant.io/v1',
    kind: 'MCPGatewayExtension',
    metadata: { namespace, name, uid: `uid-${namespace}-${name}`, generation: 1, creationTimestamp: created() },
    spec: { targetRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', ...target }, ...spec },
  };
}

export function route(
  namespace: string,
  name: string,
  parent: { name: string; namespace?: string; sectionName?: string },
  backend: { name: string; namespace?: string; port?: number; kind?: string; group?: string },
  hostnames: string[] = [`${name}.mcp.local`],
): HttpRoute {
  return {
    metadata: { namespace, name, creationTimestamp: created() },
    spec: { parentRefs: [parent], hostnames, rules: [{ backendRefs: [backend] }] },
  };
}

export function registration(
  namespace: string,
  name: string,
  routeName: string,
  spec: Partial<McpServerRegistration['spec']> = {},
): McpServerRegistration {
  return {
    apiVersion: 'mcp.kuadrant.io/v1',
    kind: 'MCPServerRegistration',
    metadata: { namespace, name, generation: 1, creationTimestamp: created() },
    spec: { targetRef: { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: routeName }, ...spec },
  };
}

export function grant(
  namespace: string,
  from: { group: string; kind: string; namespace: string },
  to: { group: string; kind: string; name?: string },
): ReferenceGrant {
  return {
    metadata: { namespace, name: `grant-${from.namespace}`, creationTimestamp: created() },
    spec: { from: [from], to: [to] },
  };
}

type ServicePort = { name?: string; port: number; appProtocol?: string };

export function service(
  namespace: string,
  name: string,
  ports: ServicePort[],
  extra: Record<string, unknown> = {},
): Service {
  return { metadata: { namespace, name }, spec: { ports, ...extra } };
}

export function secret(namespace: string, name: string, data: Record<string, string>): Secret {
  return {
    metadata: { namespace, name, labels: { 'mcp.kuadrant.io/secret': 'true' } },
    data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  };
}

export function namespaceObject(name: string, labels: Record<string, string> = {}) {
  return { metadata: { name, labels } };
}
