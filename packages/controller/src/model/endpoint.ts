import type { HttpRoute, McpServerRegistration } from './api-types.ts';
import type { StateIndex } from './cluster-state.ts';
import { referenceGranted } from './gateway-api.ts';
import { GATEWAY_API_GROUP } from '../names.ts';

/** Where the gateway reaches a registered server, or why that cannot be derived. */
export type EndpointResult =
  | { readonly ok: true; readonly url: string; readonly hostname?: string }
  | { readonly ok: false; readonly message: string };

/**
 * The server's URL from its HTTPRoute's backend: a Service becomes
 * `<scheme>://<name>.<namespace>.svc.cluster.local:<port><path>` (an ExternalName Service its
 * external host), an Istio `Hostname` backend `https://<host>:<port or 443><path>`. The scheme
 * is https when the Service port's appProtocol or name is `https` or a CA Secret is set.
 * A backend in another namespace needs a ReferenceGrant there. The routing hostname is the
 * route's first hostname.
 */
export function deriveEndpoint(
  index: StateIndex,
  registration: McpServerRegistration,
  route: HttpRoute,
): EndpointResult {
  const routeKey = `${route.metadata.namespace}/${route.metadata.name}`;
  const backend = route.spec.rules?.[0]?.backendRefs?.[0];
  if (backend === undefined) return { ok: false, message: `HTTPRoute ${routeKey} has no backendRef` };
  const path = registration.spec.path ?? '/mcp';
  const hostname = route.spec.hostnames?.[0];
  const withHost = (url: string) => ({ ok: true as const, url, ...(hostname !== undefined ? { hostname } : {}) });
  const group = backend.group ?? '';
  const kind = backend.kind ?? 'Service';
  if (group === 'networking.istio.io' && kind === 'Hostname') {
    return withHost(`https://${backend.name}:${backend.port ?? 443}${path}`);
  }
  if (group !== '' || kind !== 'Service') {
    return {
      ok: false,
      message: `HTTPRoute ${routeKey}: backend kind ${group === '' ? kind : `${kind}.${group}`} is not supported`,
    };
  }
  const routeNamespace = route.metadata.namespace ?? '';
  const namespace = backend.namespace ?? routeNamespace;
  if (
    namespace !== routeNamespace &&
    !referenceGranted(
      index.state.referenceGrants,
      { groups: [GATEWAY_API_GROUP], kind: 'HTTPRoute', namespace: routeNamespace },
      { group: '', kind: 'Service', name: backend.name, namespace },
    )
  ) {
    return {
      ok: false,
      message: `ReferenceGrant required in namespace ${namespace} to let HTTPRoute ${routeKey} use Service ${namespace}/${backend.name}`,
    };
  }
  const service = index.services.get(`${namespace}/${backend.name}`);
  const port = backend.port ?? service?.spec?.ports?.[0]?.port ?? 80;
  const servicePort = service?.spec?.ports?.find((p) => p.port === port);
  const https =
    registration.spec.caCertSecretRef !== undefined ||
    servicePort?.appProtocol?.toLowerCase() === 'https' ||
    servicePort?.name === 'https';
  const host =
    service?.spec?.type === 'ExternalName' && service.spec.externalName
      ? service.spec.externalName
      : `${backend.name}.${namespace}.svc.cluster.local`;
  return withHost(`${https ? 'https' : 'http'}://${host}:${port}${path}`);
}
