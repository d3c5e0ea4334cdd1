import type { CatalogKind } from '../catalog/catalog.ts';
import type { RequestAccess } from '../decision/access-control.ts';
import type { EndpointContext } from './endpoint-context.ts';

/**
 * The JSON text of a list result for one request: the shared, pre-serialized list when nothing
 * restricts what callers see; else only the items this request may see (its virtual server,
 * trusted header and the policy rules, decided without arguments), exactly as its calls are
 * decided.
 */
export function listBodyFor(ctx: EndpointContext, kind: CatalogKind, access: RequestAccess): string {
  const catalog = ctx.upstreams.catalog();
  const control = ctx.access();
  if (!isPersonalList(ctx, access)) return catalog.listResultJson(kind) as string;
  return catalog.filteredListJson(kind, (subject) => control.visible(access, subject));
}

/**
 * Whether a list's content depends on who asks (so a 2026-07-28 answer must be `cacheScope:
 * private`): the config filters per caller, or the request chose a virtual server, or it carries
 * an `x-mcp-authorized` header (which, without a key configured to verify it, allows nothing).
 */
export function isPersonalList(ctx: EndpointContext, access: RequestAccess): boolean {
  return ctx.access().filtering || access.virtualServer !== undefined || access.trusted.kind !== 'absent';
}
