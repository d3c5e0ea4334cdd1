import type { ServerConfig } from '../config/schema.ts';
import type { AccessSubject } from '../decision/access-rules.ts';
import type { JsonObject, ListCacheHint, UpstreamSnapshot } from '../upstream/types.ts';
import { prefixName, prefixUri, prefixUriTemplate, unprefixUri } from './tool-prefix.ts';
import { overriddenTool } from './tool-overrides.ts';

/** The four lists the gateway aggregates. */
export type CatalogKind = 'tools' | 'prompts' | 'resources' | 'resourceTemplates';

/** Where a served name or URI goes: the owning server and the upstream's own name or URI. */
export interface CatalogTarget {
  readonly server: string;
  readonly name: string;
  /** Arguments the gateway fills in on every call of this tool (its server's override). */
  readonly fixedArguments?: Readonly<Record<string, unknown>>;
}

/** Why a pinned server's listed tool is not served (docs/configuration.md#pinned-tool-definitions). */
export type WithheldReason = 'quarantined' | 'pinStoreUnavailable';

/** A tool its server lists that is withheld by its pins: the server, the upstream's name, why. */
export interface WithheldTool {
  readonly server: string;
  readonly name: string;
  readonly reason: WithheldReason;
}

/** Served names that a later server also exposed and that were therefore not served for it. */
export interface ServerConflicts {
  readonly tools: readonly string[];
  readonly prompts: readonly string[];
  readonly resources: readonly string[];
}

/**
 * An immutable view of everything the gateway serves, built from the upstreams' snapshots.
 * Swapped atomically on every change: a request sees one catalog from start to end.
 */
export interface Catalog {
  readonly tools: readonly JsonObject[];
  /** The tools with what access decisions know of each (same order as `tools`). */
  readonly toolEntries: readonly ListEntry[];
  readonly prompts: readonly JsonObject[];
  readonly resources: readonly JsonObject[];
  readonly resourceTemplates: readonly JsonObject[];
  /** Per server, the served names it lost to an earlier server. */
  readonly conflicts: ReadonlyMap<string, ServerConflicts>;
  /** Per ready server, the overridden tools its upstream no longer lists (shown in /status). */
  readonly unmatchedOverrides: ReadonlyMap<string, readonly string[]>;
  findTool(servedName: string): CatalogTarget | undefined;
  /** A tool not served because of its server's pins, by the name it would be served under. */
  withheldTool(servedName: string): WithheldTool | undefined;
  /** The tool as served (prefixed name, upstream's schema), for what its schema declares. */
  toolItem(servedName: string): JsonObject | undefined;
  findPrompt(servedName: string): CatalogTarget | undefined;
  /** Maps a served resource URI back to its server and upstream URI (listed resources, then templates). */
  resolveResourceUri(servedUri: string): CatalogTarget | undefined;
  /** The JSON text of a list result (`{"tools":[…]}`) with every item, serialized once per catalog. */
  listResultJson(kind: CatalogKind): string;
  /**
   * The JSON text of a list result holding only the items `keep` accepts (access decided per
   * request); each item's JSON is made once per catalog.
   */
  filteredListJson(kind: CatalogKind, keep: (subject: AccessSubject) => boolean): string;
  /**
   * The 2026-07-28 cache hints of an aggregated list: the smallest non-zero ttlMs among the
   * contributing upstreams that gave one (0 when none did), `private` when any contributor is.
   */
  cacheHints(kind: CatalogKind): ListCacheHint;
}

const LIST_KEYS: Record<CatalogKind, string> = {
  tools: 'tools',
  prompts: 'prompts',
  resources: 'resources',
  resourceTemplates: 'resourceTemplates',
};

/**
 * Builds the catalog. Servers are taken in config order; the first server to expose a served
 * name keeps it and a later server's clashing item is not served (reported in `conflicts`,
 * never silently shadowed). Items are listed sorted by served name, so the order is stable
 * whatever order upstreams list in. Only ready, enabled servers contribute. `withheld` names,
 * per pinned server, the tools its pins withhold (already left out of its snapshot): a call
 * of one is told why rather than that the tool is unknown.
 */
export function buildCatalog(
  servers: readonly ServerConfig[],
  snapshots: ReadonlyMap<string, UpstreamSnapshot>,
  withheld: ReadonlyMap<string, ReadonlyMap<string, WithheldReason>> = new Map(),
): Catalog {
  const tools = new Map<string, { target: CatalogTarget; item: JsonObject }>();
  const prompts = new Map<string, { target: CatalogTarget; item: JsonObject }>();
  const resources = new Map<string, { target: CatalogTarget; item: JsonObject }>();
  const templates: { served: string; server: ServerConfig; item: JsonObject; name: string }[] = [];
  const conflicts = new Map<string, ServerConflicts>();
  const unmatchedOverrides = new Map<string, readonly string[]>();
  const resourceServers: ServerConfig[] = [];
  const withheldTools = new Map<string, WithheldTool>();

  for (const server of servers) {
    const snapshot = snapshots.get(server.name);
    if (!server.enabled || snapshot === undefined || !snapshot.ready) continue;
    const lost = { tools: [] as string[], prompts: [] as string[], resources: [] as string[] };
    const overrides = new Map((server.toolOverrides ?? []).map((override) => [override.tool, override]));
    for (const [name, reason] of withheld.get(server.name) ?? []) {
      const override = overrides.get(name);
      overrides.delete(name);
      if (override?.hidden === true) continue;
      withheldTools.set(override?.name ?? prefixName(server.prefix, name), { server: server.name, name, reason });
    }
    for (const tool of snapshot.tools) {
      const override = overrides.get(tool.name);
      overrides.delete(tool.name);
      if (override?.hidden === true) continue;
      const served = override?.name ?? prefixName(server.prefix, tool.name);
      if (tools.has(served)) {
        lost.tools.push(served);
        continue;
      }
      const item =
        override === undefined ? { ...tool, name: served } : { ...overriddenTool(tool, override), name: served };
      const target =
        override?.fixedArguments === undefined
          ? { server: server.name, name: tool.name }
          : { server: server.name, name: tool.name, fixedArguments: override.fixedArguments };
      tools.set(served, { target, item });
    }
    if (overrides.size > 0) unmatchedOverrides.set(server.name, [...overrides.keys()]);
    for (const prompt of snapshot.prompts) {
      const served = prefixName(server.prefix, prompt.name);
      if (prompts.has(served)) lost.prompts.push(served);
      else
        prompts.set(served, { target: { server: server.name, name: prompt.name }, item: { ...prompt, name: served } });
    }
    for (const resource of snapshot.resources) {
      const served = prefixUri(server.prefix, resource.uri);
      if (resources.has(served)) lost.resources.push(served);
      else
        resources.set(served, {
          target: { server: server.name, name: resource.uri },
          item: { ...resource, uri: served },
        });
    }
    for (const template of snapshot.resourceTemplates) {
      const served = prefixUriTemplate(server.prefix, template.uriTemplate);
      templates.push({ served, server, item: { ...template, uriTemplate: served }, name: template.uriTemplate });
    }
    if (
      snapshot.resources.length > 0 ||
      snapshot.resourceTemplates.length > 0 ||
      'resources' in snapshot.capabilities
    ) {
      resourceServers.push(server);
    }
    if (lost.tools.length + lost.prompts.length + lost.resources.length > 0) conflicts.set(server.name, lost);
  }

  const byServed = <T>(map: Map<string, T>): [string, T][] =>
    [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const listed = (kind: AccessSubject['kind'], map: Map<string, { target: CatalogTarget; item: JsonObject }>) =>
    byServed(map).map(([servedName, { target, item }]) => ({
      item,
      subject: { kind, server: target.server, name: target.name, servedName },
    }));
  templates.sort((a, b) => (a.served < b.served ? -1 : a.served > b.served ? 1 : 0));
  const entries: Record<CatalogKind, readonly ListEntry[]> = {
    tools: listed('tool', tools),
    prompts: listed('prompt', prompts),
    resources: listed('resource', resources),
    resourceTemplates: templates.map((entry) => ({
      item: entry.item,
      subject: { kind: 'resource', server: entry.server.name, name: entry.name, servedName: entry.served },
    })),
  };
  const lists: Record<CatalogKind, readonly JsonObject[]> = {
    tools: entries.tools.map((entry) => entry.item),
    prompts: entries.prompts.map((entry) => entry.item),
    resources: entries.resources.map((entry) => entry.item),
    resourceTemplates: entries.resourceTemplates.map((entry) => entry.item),
  };
  const itemJson = new Map<CatalogKind, readonly string[]>();
  // Longest prefix first, so `ab_` wins over `a` for `test://ab_x`; unprefixed servers last.
  const byPrefix = [...resourceServers].sort((a, b) => b.prefix.length - a.prefix.length);
  const bodies = new Map<CatalogKind, string>();
  const hints = new Map<CatalogKind, ListCacheHint>();
  const contributing = servers
    .map((server) => snapshots.get(server.name))
    .filter((snapshot): snapshot is UpstreamSnapshot => snapshot !== undefined && snapshot.ready)
    .filter((snapshot) => servers.find((s) => s.name === snapshot.server)?.enabled === true);

  return {
    ...lists,
    toolEntries: entries.tools,
    conflicts,
    unmatchedOverrides,
    findTool: (served) => tools.get(served)?.target,
    withheldTool: (served) => (tools.has(served) ? undefined : withheldTools.get(served)),
    toolItem: (served) => tools.get(served)?.item,
    findPrompt: (served) => prompts.get(served)?.target,
    resolveResourceUri(servedUri) {
      const listed = resources.get(servedUri);
      if (listed !== undefined) return listed.target;
      for (const server of byPrefix) {
        const uri = unprefixUri(server.prefix, servedUri);
        if (uri !== undefined) return { server: server.name, name: uri };
      }
      return undefined;
    },
    cacheHints(kind) {
      const known = hints.get(kind);
      if (known !== undefined) return known;
      let ttlMs = 0;
      let cacheScope: ListCacheHint['cacheScope'] = 'public';
      for (const snapshot of contributing) {
        const hint = snapshot.listCache?.[kind];
        if (hint === undefined) continue;
        if (hint.ttlMs > 0 && (ttlMs === 0 || hint.ttlMs < ttlMs)) ttlMs = hint.ttlMs;
        if (hint.cacheScope === 'private') cacheScope = 'private';
      }
      const computed = { ttlMs, cacheScope };
      hints.set(kind, computed);
      return computed;
    },
    listResultJson(kind) {
      const cached = bodies.get(kind);
      if (cached !== undefined) return cached;
      const body = JSON.stringify({ [LIST_KEYS[kind]]: lists[kind] });
      bodies.set(kind, body);
      return body;
    },
    filteredListJson(kind, keep) {
      let json = itemJson.get(kind);
      if (json === undefined) {
        json = entries[kind].map((entry) => JSON.stringify(entry.item));
        itemJson.set(kind, json);
      }
      const kept: string[] = [];
      entries[kind].forEach((entry, index) => {
        if (keep(entry.subject)) kept.push(json[index] as string);
      });
      return `{"${LIST_KEYS[kind]}":[${kept.join(',')}]}`;
    },
  };
}

/** One listed item and what access decisions know of it. */
export interface ListEntry {
  readonly item: JsonObject;
  readonly subject: AccessSubject;
}

/** Which lists differ between two catalogs (drives list_changed notifications). */
export function diffCatalogs(
  before: Catalog,
  after: Catalog,
): { tools: boolean; prompts: boolean; resources: boolean } {
  const differs = (kind: CatalogKind) => before.listResultJson(kind) !== after.listResultJson(kind);
  return {
    tools: differs('tools'),
    prompts: differs('prompts'),
    resources: differs('resources') || differs('resourceTemplates'),
  };
}
