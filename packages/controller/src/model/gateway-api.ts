import type { HttpRoute, LabelSelector, Listener, ParentRef, ReferenceGrant } from './api-types.ts';
import { GATEWAY_API_GROUP } from '../names.ts';

/** True when `labels` match a Kubernetes label selector (an empty selector matches everything). */
export function matchesSelector(
  labels: Readonly<Record<string, string>>,
  selector: LabelSelector | undefined,
): boolean {
  if (selector === undefined) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, expr.key);
    const value = labels[expr.key];
    const values = expr.values ?? [];
    if (expr.operator === 'Exists' && !has) return false;
    if (expr.operator === 'DoesNotExist' && has) return false;
    if (expr.operator === 'In' && (value === undefined || !values.includes(value))) return false;
    if (expr.operator === 'NotIn' && value !== undefined && values.includes(value)) return false;
  }
  return true;
}

/**
 * Whether a listener's `allowedRoutes.namespaces` admits routes from `namespace`
 * (`Same` by default, `All`, `Selector` on the namespace's labels, `None`).
 */
export function listenerAdmits(
  listener: Listener,
  gatewayNamespace: string,
  namespace: string,
  namespaceLabels: Readonly<Record<string, string>> | undefined,
): boolean {
  const from = listener.allowedRoutes?.namespaces?.from ?? 'Same';
  switch (from) {
    case 'All':
      return true;
    case 'Same':
      return namespace === gatewayNamespace;
    case 'Selector':
      return (
        namespaceLabels !== undefined && matchesSelector(namespaceLabels, listener.allowedRoutes?.namespaces?.selector)
      );
    default:
      return false;
  }
}

/** True when a ReferenceGrant in `toNamespace` lets `from` (group, kind, namespace) refer to `to`. */
export function referenceGranted(
  grants: readonly ReferenceGrant[],
  from: { readonly groups: readonly string[]; readonly kind: string; readonly namespace: string },
  to: { readonly group: string; readonly kind: string; readonly name: string; readonly namespace: string },
): boolean {
  return grants.some(
    (grant) =>
      grant.metadata.namespace === to.namespace &&
      grant.spec.from.some(
        (f) => from.groups.includes(f.group) && f.kind === from.kind && f.namespace === from.namespace,
      ) &&
      grant.spec.to.some(
        (t) =>
          t.group === to.group &&
          (t.kind === undefined || t.kind === '' || t.kind === to.kind) &&
          (t.name === undefined || t.name === '' || t.name === to.name),
      ),
  );
}

/** True when a route hostname and a listener hostname (either may be a `*.` wildcard) can both match a host. */
export function hostnamesIntersect(routeHost: string, listenerHost: string | undefined): boolean {
  if (listenerHost === undefined || listenerHost === '') return true;
  const matches = (pattern: string, host: string) =>
    pattern.startsWith('*.') ? host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1 : pattern === host;
  return matches(listenerHost, routeHost) || matches(routeHost, listenerHost) || routeHost === listenerHost;
}

/** The parentRefs of a route that name the Gateway `<namespace>/<name>`. */
export function parentRefsTo(route: HttpRoute, gatewayNamespace: string, gatewayName: string): ParentRef[] {
  const routeNamespace = route.metadata.namespace ?? '';
  return (route.spec.parentRefs ?? []).filter(
    (ref) =>
      (ref.group ?? GATEWAY_API_GROUP) === GATEWAY_API_GROUP &&
      (ref.kind ?? 'Gateway') === 'Gateway' &&
      ref.name === gatewayName &&
      (ref.namespace ?? routeNamespace) === gatewayNamespace,
  );
}

/** True when the Gateway implementation reported this parent as not accepted (status.parents). */
export function parentRejected(route: HttpRoute, ref: ParentRef, gatewayNamespace: string): boolean {
  const entry = route.status?.parents?.find(
    (p) =>
      p.parentRef.name === ref.name &&
      (p.parentRef.namespace ?? route.metadata.namespace) === gatewayNamespace &&
      (p.parentRef.sectionName ?? '') === (ref.sectionName ?? ''),
  );
  return entry?.conditions?.some((c) => c.type === 'Accepted' && c.status === 'False') ?? false;
}
